"""The operator pod deleted while a job runs: the Deployment starts a new one, which picks
the job up where it stands; nothing is lost and nothing is created twice."""

from __future__ import annotations

import httpx
from lightkube import Client
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod

from tests.e2e.conftest import Release
from tests.e2e.jobs import simulated_gpu_job, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.release import operator_pods


def test_operator_deleted_mid_run_loses_and_duplicates_nothing(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    name = unique("survive")
    submit(api, name, simulated_gpu_job({"aijob.dev/fake-run-seconds": "25"}))
    running = wait_for_phase(kube, release.tenant, name, "Running", Timeout.SIMULATED_JOB)
    job_uid = kube.get(Job, name, namespace=release.tenant).metadata.uid  # type: ignore[union-attr]

    (old,) = operator_pods(kube, release)
    assert old.metadata
    assert old.metadata.name
    kube.delete(Pod, old.metadata.name, namespace=release.namespace, grace_period=0)

    def replaced() -> bool:
        pods = operator_pods(kube, release)
        fresh = [p for p in pods if p.metadata and p.metadata.name != old.metadata.name]  # type: ignore[union-attr]
        assert fresh, "no new operator pod yet"
        assert any(
            c.type == "Ready" and c.status == "True"
            for c in (fresh[0].status.conditions if fresh[0].status else None) or []
        ), "the new operator pod is not Ready"
        return True

    eventually(replaced, timeout=Timeout.REAL_POD, what="a new operator pod Ready")
    done = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.SIMULATED_JOB)
    assert done["status"]["attempts"] == running["status"]["attempts"] == 1
    job = kube.get(Job, name, namespace=release.tenant)
    assert job.metadata
    assert job.metadata.uid == job_uid, "the Job was created again"
    jobs_of_it = [
        j
        for j in kube.list(Job, namespace=release.tenant)
        if j.metadata and name in (j.metadata.name or "")
    ]
    assert len(jobs_of_it) == 1
