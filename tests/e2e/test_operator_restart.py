"""The leading operator pod deleted while a job runs: the standby replica takes the lease
and picks the job up where it stands, the Deployment starts a new standby; nothing is lost
and nothing is created twice."""

from __future__ import annotations

import httpx
from aijob_kube.resources import RawLease
from lightkube import Client
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod

from tests.e2e.conftest import Release
from tests.e2e.jobs import simulated_gpu_job, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually


def operator_pods(kube: Client, release: Release) -> list[Pod]:
    return list(
        kube.list(
            Pod,
            namespace=release.namespace,
            labels={
                "app.kubernetes.io/instance": release.name,
                "app.kubernetes.io/component": "operator",
            },
        )
    )


def leader(kube: Client, release: Release) -> str:
    """The lease holder's identity: its pod's name, an underscore and a random suffix."""
    lease = dict(kube.get(RawLease, f"{release.name}-operator", namespace=release.namespace))
    return str(lease["spec"].get("holderIdentity") or "")


def test_operator_deleted_mid_run_loses_and_duplicates_nothing(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    name = unique("survive")
    submit(api, name, simulated_gpu_job({"aijob.dev/fake-run-seconds": "25"}))
    running = wait_for_phase(kube, release.tenant, name, "Running", Timeout.SIMULATED_JOB)
    job_uid = kube.get(Job, name, namespace=release.tenant).metadata.uid  # type: ignore[union-attr]

    pods = operator_pods(kube, release)
    assert len(pods) == 2, "two replicas: a leader and a standby"
    holder = eventually(lambda: leader(kube, release), timeout=Timeout.API, what="a leader")
    (old,) = [p for p in pods if p.metadata and holder.startswith(f"{p.metadata.name}_")]
    assert old.metadata
    assert old.metadata.name
    kube.delete(Pod, old.metadata.name, namespace=release.namespace, grace_period=0)
    standby = next(p.metadata.name for p in pods if p.metadata and p is not old)

    def standby_leads() -> bool:
        assert leader(kube, release).startswith(f"{standby}_"), leader(kube, release)
        return True

    eventually(standby_leads, timeout=Timeout.SCHEDULING, what="the standby takes the lease")

    def replaced() -> bool:
        pods = operator_pods(kube, release)
        fresh = [p for p in pods if p.metadata and p.metadata.name != old.metadata.name]  # type: ignore[union-attr]
        assert len(fresh) == 2, "no new standby yet"
        for pod in fresh:
            conditions = (pod.status.conditions if pod.status else None) or []
            assert any(c.type == "Ready" and c.status == "True" for c in conditions), (
                f"{pod.metadata.name if pod.metadata else pod} is not Ready"
            )
        return True

    eventually(replaced, timeout=Timeout.REAL_POD, what="a new standby Ready beside the leader")
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
