"""AIJobs with `spec.queue` against a real Kueue (`make kueue-up`) on simulated GPU nodes.

Each test has its own two KWOK GPU nodes (of a GPU product of its own), a ResourceFlavor
for them, a ClusterQueue of 8 nvidia.com/gpu admitting only the test's namespace (within
it a higher priority preempts a lower one) and a LocalQueue `gpus`; all are deleted at the
end. Kueue admits a Job by unsuspending it; the operator never touches `suspend` of a
queued Job and shows Kueue's own words (the Workload's conditions) while Kueue holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_api.constants import KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL
from aijob_api.models import AIJob
from lightkube import Client

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout, eventually
from tests.support.gpu_nodes import GPUS_PER_NODE, GpuNodes
from tests.support.kueue import TestQueue, ensure_workload_priority_classes, kueue_missing

pytestmark = pytest.mark.usefixtures("operator")

QUOTA = GPUS_PER_NODE
"""The ClusterQueue's nvidia.com/gpu quota: one node's worth, while there are two nodes."""
LONG_RUN = simulated({"aijob.dev/fake-run-seconds": "600"})
"""Pods that stay Running (the KWOK stages) until their job is cancelled or preempted."""
NO_QUOTA = "insufficient unused quota for nvidia.com/gpu"
"""Kueue's words for a workload its ClusterQueue cannot fit now."""


@pytest.fixture
def queue(kube: Client, namespace: str) -> Iterator[TestQueue]:
    """Kueue up (else skip, saying why), the test's GPU nodes and its queue objects."""
    missing = kueue_missing(kube)
    if missing is not None:
        pytest.skip(missing)
    ensure_workload_priority_classes(kube)
    nodes = GpuNodes(kube, stem="kwok-kueue")
    nodes.add(2)
    made = TestQueue(kube, namespace, gpus=QUOTA, product=nodes.product)
    try:
        made.create()
        yield made
    finally:
        made.delete()
        nodes.delete()


def gpu_job(namespace: str, name: str, queue: TestQueue, gpus: int, **spec: Any) -> dict[str, Any]:
    """A PyTorch job of `gpus` GPUs in the test's LocalQueue, on the test's GPU product."""
    body: dict[str, Any] = {"model": {"type": "mlp"}, "dataset": {"name": "digits"}}
    body.update(
        resources={"gpu": gpus},
        queue=queue.local,
        placement={"gpuProduct": queue.product},
        podTemplate=LONG_RUN,
    )
    return manifest(name, namespace, **{**body, **spec})


def live_pods(aijobs: AIJobs, name: str) -> list[str]:
    """The pods of a job that are not ending."""
    return [
        str(pod.metadata.name)
        for pod in aijobs.pods(name)
        if pod.metadata is not None and pod.metadata.deletionTimestamp is None
    ]


def bound_pods(aijobs: AIJobs, name: str, count: int) -> list[str]:
    """Wait until `count` pods of the job are bound to a node; return their nodes."""

    def bound() -> list[str]:
        nodes = [pod.spec.nodeName for pod in aijobs.pods(name) if pod.spec and pod.spec.nodeName]
        assert len(nodes) == count, f"{len(nodes)} of {count} pods bound"
        return [str(node) for node in nodes]

    return eventually(bound, timeout=Timeout.SCHEDULING, what=f"{name}: {count} pod(s) bound")


def held(aijobs: AIJobs, name: str, words: str) -> AIJob:
    """Wait until Kueue holds the job with `words` in its status; it is Queued, no pod."""
    waiting = aijobs.wait(
        name,
        lambda item: words in (item.status.message or ""),
        timeout=Timeout.SCHEDULING,
        what=f"held by Kueue: {words}",
    )
    assert waiting.status.phase is Phase.QUEUED
    assert waiting.status.reason == Reason.ADMISSION_PENDING
    assert aijobs.pods(name) == [], "no pod while Kueue holds the Job"
    return waiting


def test_quota_admits_a_job_and_holds_the_next_with_kueues_reason(
    aijobs: AIJobs, namespace: str, queue: TestQueue
) -> None:
    aijobs.create(gpu_job(namespace, "first", queue, QUOTA))
    aijobs.wait_phase("first", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    (node,) = bound_pods(aijobs, "first", 1)
    assert node.startswith("kwok-kueue-")
    job = aijobs.job("first")
    assert job is not None
    assert job.metadata is not None
    assert job.spec is not None
    assert job.spec.suspend is False, "Kueue admitted it"
    labels = job.metadata.labels or {}
    assert labels[KUEUE_QUEUE_LABEL] == queue.local
    assert labels[KUEUE_PRIORITY_LABEL] == "aijob-normal"

    aijobs.create(gpu_job(namespace, "second", queue, QUOTA // 2))
    waiting = held(aijobs, "second", NO_QUOTA)
    assert f"Kueue queue {queue.local}" in (waiting.status.message or "")
    suspended = aijobs.job("second")
    assert suspended is not None
    assert suspended.spec is not None
    assert suspended.spec.suspend is True
    owners = [ref["name"] for wl in queue.workloads() for ref in wl["metadata"]["ownerReferences"]]
    assert sorted(owners) == ["first", "second"], "Kueue made one Workload per Job"

    aijobs.patch_spec("first", {"cancel": True})
    aijobs.wait_phase("second", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    bound_pods(aijobs, "second", 1)


def test_a_higher_priority_preempts_and_the_preempted_job_is_admitted_again(
    aijobs: AIJobs, namespace: str, queue: TestQueue
) -> None:
    aijobs.create(gpu_job(namespace, "low", queue, QUOTA, priority="low"))
    aijobs.wait_phase("low", Phase.RUNNING, timeout=Timeout.SCHEDULING)

    aijobs.create(gpu_job(namespace, "high", queue, QUOTA, priority="high"))
    preempted = aijobs.wait_phase(
        "low", Phase.QUEUED, reason=Reason.PREEMPTED, timeout=Timeout.SCHEDULING
    )
    message = preempted.status.message or ""
    assert preempted.status.failed_attempts == 0
    assert "Preempted to accommodate a workload" in message, "Kueue's own message"
    assert "no retry spent" in message
    aijobs.wait_phase("high", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    eventually(
        lambda: live_pods(aijobs, "low") == [],
        timeout=Timeout.SCHEDULING,
        what="the preempted job's pod gone",
    )
    eventually(
        lambda: Reason.PREEMPTED in aijobs.event_reasons("low"),
        timeout=Timeout.API,
        what="a Preempted event",
    )

    aijobs.patch_spec("high", {"cancel": True})
    again = aijobs.wait_phase("low", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    assert again.status.failed_attempts == 0, "a preemption spends no retry"
    readmitted = aijobs.job("low")
    assert readmitted is not None
    assert readmitted.status is not None
    assert not readmitted.status.failed, "the Job controller counted no failure either"
    bound_pods(aijobs, "low", 1)


def test_a_multi_node_job_is_admitted_as_one_gang(
    aijobs: AIJobs, namespace: str, queue: TestQueue
) -> None:
    code = {"configMap": "ddp-code", "entrypoint": "train.py"}  # never read by simulated pods
    group = {"framework": "pytorch", "model": None, "code": code}
    too_big = gpu_job(namespace, "too-big", queue, QUOTA, distributed={"nodes": 2}, **group)
    aijobs.create(too_big)
    held(aijobs, "too-big", f"current podset request ({2 * QUOTA}) > maximum capacity ({QUOTA})")

    fits = gpu_job(namespace, "pair", queue, QUOTA // 2, distributed={"nodes": 2}, **group)
    aijobs.create(fits)
    aijobs.wait_phase("pair", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    assert len(bound_pods(aijobs, "pair", 2)) == 2
    (workload,) = [
        wl for wl in queue.workloads() if wl["metadata"]["ownerReferences"][0]["name"] == "pair"
    ]
    (pod_set,) = workload["spec"]["podSets"]
    assert pod_set["count"] == 2, "one Workload admits both pods together"
    assert aijobs.pods("too-big") == []
