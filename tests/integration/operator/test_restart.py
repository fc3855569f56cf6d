"""Killed mid-burst and restarted, the operator never creates a second Job and never loses one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aijob_api.conditions import Phase
from aijob_api.constants import LABEL_JOB_NAME
from lightkube import Client
from lightkube.resources.core_v1 import Pod

from tests.integration.operator.process import OperatorProcess
from tests.integration.operator.support import AIJobs, manifest
from tests.support.eventually import Timeout, eventually

BURST = 100


@pytest.fixture
def operator_process(
    namespace: str, aijob_crd: str, priority_classes: dict[str, int], tmp_path: Path
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(namespace, tmp_path / "operator.log")
    yield process
    process.kill()


def test_kill_mid_burst_then_restart(
    operator_process: OperatorProcess, aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    operator_process.start()
    for number in range(BURST):
        aijobs.create(manifest(f"burst-{number:03d}", namespace))

    def some_jobs_created() -> int:
        assert operator_process.alive(), operator_process.log()
        return len(aijobs.jobs())

    eventually(some_jobs_created, timeout=Timeout.SIMULATED_JOB, interval=0.05, what="first Jobs")
    operator_process.kill()
    before = aijobs.job_uids()
    assert 0 < len(before) < BURST, "the kill must land mid-burst; raise BURST if it did not"

    operator_process.start()

    def all_succeeded() -> bool:
        listed = aijobs.all()
        waiting = sorted(
            name for name, job in listed.items() if job.status.phase is not Phase.SUCCEEDED
        )
        assert len(listed) == BURST
        assert not waiting, f"{len(waiting)} not Succeeded yet, e.g. {waiting[0]}"
        return True

    eventually(
        all_succeeded, timeout=Timeout.SIMULATED_JOB * 2, interval=1, what="every AIJob done"
    )

    after = aijobs.job_uids()
    assert sorted(after) == [f"burst-{n:03d}" for n in range(BURST)]
    assert {name: after[name] for name in before} == before, "no Job was deleted and re-created"
    pods_per_job: dict[str, int] = {}
    for pod in kube.list(Pod, namespace=namespace, labels={LABEL_JOB_NAME: None}):
        assert pod.metadata is not None
        owner = (pod.metadata.labels or {})[LABEL_JOB_NAME]
        pods_per_job[owner] = pods_per_job.get(owner, 0) + 1
    assert pods_per_job == dict.fromkeys(after, 1), "every job ran exactly once"
    for name, job in aijobs.all().items():
        assert (job.status.job_name, job.status.attempts) == (name, 1)
