"""Waiting honestly: unschedulable, preempted by a higher priority, held by Kueue."""

from __future__ import annotations

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_api.constants import KUEUE_QUEUE_LABEL

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout, eventually

pytestmark = pytest.mark.usefixtures("operator")

GPUS_PER_NODE = 8
"""Each simulated GPU node has 8 nvidia.com/gpu (hack/cluster/nodes.yaml); there are two."""
ON_GPUS = {"model": {"type": "mlp"}, "dataset": {"name": "digits"}}
"""A model type whose runtime (pytorch) can use GPUs; the catalog refuses GPUs for sklearn."""


def test_too_many_gpus_waits_with_the_schedulers_reason(aijobs: AIJobs, namespace: str) -> None:
    aijobs.create(manifest("greedy", namespace, resources={"gpu": 2 * GPUS_PER_NODE}, **ON_GPUS))
    waiting = aijobs.wait(
        "greedy",
        lambda job: job.status.reason == Reason.UNSCHEDULABLE,
        timeout=Timeout.SCHEDULING,
        what="reported unschedulable",
    )
    assert waiting.status.phase is Phase.QUEUED
    message = waiting.status.message or ""
    assert "Insufficient nvidia.com/gpu" in message
    assert "0/" in message, "the scheduler's own count of nodes"
    assert waiting.status.attempts == 1
    eventually(
        lambda: Reason.UNSCHEDULABLE in aijobs.event_reasons("greedy"),
        timeout=Timeout.API,
        what="a Warning event",
    )


def test_high_priority_preempts_low_which_waits_without_spending_a_retry(
    aijobs: AIJobs, namespace: str
) -> None:
    long_run = simulated({"aijob.dev/fake-run-seconds": "600"})
    whole_node = {"gpu": GPUS_PER_NODE}
    for name in ("low-a", "low-b"):
        aijobs.create(
            manifest(
                name,
                namespace,
                priority="low",
                resources=whole_node,
                podTemplate=long_run,
                **ON_GPUS,
            )
        )
    for name in ("low-a", "low-b"):
        aijobs.wait_phase(name, Phase.RUNNING, timeout=Timeout.SCHEDULING)

    aijobs.create(
        manifest(
            "urgent",
            namespace,
            priority="high",
            resources=whole_node,
            podTemplate=long_run,
            **ON_GPUS,
        )
    )
    aijobs.wait_phase("urgent", Phase.RUNNING, timeout=Timeout.SCHEDULING)

    def one_low_job_preempted() -> str:
        preempted = [
            name
            for name in ("low-a", "low-b")
            if aijobs.get(name).status.reason == Reason.PREEMPTED
        ]
        assert len(preempted) == 1, [aijobs.get(n).status.message for n in ("low-a", "low-b")]
        return preempted[0]

    victim = eventually(one_low_job_preempted, timeout=Timeout.SCHEDULING, what="a preemption")
    status = aijobs.get(victim).status
    assert status.phase is Phase.QUEUED
    assert "no retry spent" in (status.message or "")
    assert (status.attempts, status.failed_attempts) == (1, 0)
    job = aijobs.job(victim)
    assert job is not None
    assert job.status is not None
    assert not job.status.failed, "the disruption must not count against backoffLimit"
    assert Reason.PREEMPTED in aijobs.event_reasons(victim)


def test_a_kueue_queue_creates_the_job_suspended(aijobs: AIJobs, namespace: str) -> None:
    aijobs.create(manifest("queued", namespace, queue="team-a"))
    waiting = aijobs.wait(
        "queued",
        lambda job: job.status.reason == Reason.ADMISSION_PENDING,
        timeout=Timeout.API,
        what="waiting for admission",
    )
    assert waiting.status.phase is Phase.QUEUED
    assert "team-a" in (waiting.status.message or "")
    job = aijobs.job("queued")
    assert job is not None
    assert job.spec is not None
    assert job.spec.suspend is True
    assert job.metadata is not None
    assert (job.metadata.labels or {})[KUEUE_QUEUE_LABEL] == "team-a"
    assert aijobs.pods("queued") == []
