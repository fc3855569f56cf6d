"""Distributed jobs on the simulated GPU nodes: placed whole or not at all, restarted whole.

Each test brings its own KWOK GPU nodes (8 nvidia.com/gpu each, tainted like the cluster's
own, hack/cluster/nodes.yaml) labelled with a GPU product of its own, and its jobs ask for
that product (spec.placement.gpuProduct): other suites running on the same cluster never
take their GPUs, and these jobs never take the cluster's. The nodes are deleted at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aijob_api import contract
from aijob_api.conditions import Phase, Reason
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Pod, Service

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout, eventually
from tests.support.gpu_nodes import GpuNodes

pytestmark = pytest.mark.usefixtures("operator")

GPUS = 8
CODE = {"configMap": "ddp-code", "entrypoint": "train.py"}
"""Your own code (several nodes run it); the simulated pods never read the ConfigMap."""
LONG_RUN = simulated({"aijob.dev/fake-run-seconds": "600"})
"""Pods that stay Running (the KWOK stages), so the whole group can be seen placed."""


@pytest.fixture
def gpu_nodes(kube: Client) -> Iterator[GpuNodes]:
    """This test's own GPU nodes (none at first); deleted at the end."""
    nodes = GpuNodes(kube, stem="kwok-gang")
    yield nodes
    nodes.delete()


def group(namespace: str, name: str, nodes: int, product: str) -> dict[str, object]:
    """A PyTorch job of your own code, `nodes` pods of 8 GPUs on the test's own GPU product."""
    return manifest(
        name,
        namespace,
        framework="pytorch",
        model=None,
        code=CODE,
        dataset={"name": "digits"},
        resources={"gpu": GPUS},
        distributed={"nodes": nodes},
        placement={"gpuProduct": product},
        podTemplate=LONG_RUN,
    )


def bound_nodes(kube: Client, aijobs: AIJobs, name: str) -> list[str]:
    """The nodes the group's pods are bound to, one entry per bound pod."""
    return [
        pod.spec.nodeName for pod in aijobs.pods(name) if pod.spec is not None and pod.spec.nodeName
    ]


def placed_whole(kube: Client, aijobs: AIJobs, name: str, nodes: int) -> list[str]:
    """Wait until all `nodes` pods of the group are bound; return their nodes."""

    def bound() -> list[str]:
        found = bound_nodes(kube, aijobs, name)
        assert len(found) == nodes, f"{len(found)} of {nodes} pods bound"
        return found

    return eventually(bound, timeout=Timeout.SCHEDULING, what=f"{name}: {nodes} pods bound")


def test_a_group_waits_holding_nothing_until_all_its_pods_fit(
    kube: Client, aijobs: AIJobs, namespace: str, gpu_nodes: GpuNodes
) -> None:
    product = gpu_nodes.product
    first = gpu_nodes.add(2)
    aijobs.create(group(namespace, "gang", 4, product))
    # The capacity view is re-read every few seconds: wait for one that counts both nodes.
    both_counted = "2 node(s) able to run one can hold 2 of them now"
    waiting = aijobs.wait(
        "gang",
        lambda job: (
            job.status.reason == Reason.INSUFFICIENT_CAPACITY
            and both_counted in (job.status.message or "")
        ),
        timeout=Timeout.API,
        what="waiting for room, both nodes counted",
    )
    assert waiting.status.phase is Phase.QUEUED
    assert "needs 4 pods x (8 nvidia.com/gpu" in (waiting.status.message or "")
    job = aijobs.job("gang")
    assert job is not None
    assert job.spec is not None
    assert job.spec.suspend is True
    assert (job.spec.completions, job.spec.parallelism) == (4, 4)
    assert aijobs.pods("gang") == [], "no pod while the group does not fit: no GPU held"
    for rank in range(4):
        service = kube.get(Service, f"gang-{rank}", namespace=namespace)
        assert service.spec is not None
        assert service.spec.clusterIP
    env = aijobs.worker_env("gang")
    master = kube.get(Service, "gang-0", namespace=namespace).spec
    assert master is not None
    assert env[contract.ENV_NODES] == "4"
    assert env[contract.ENV_PROCESSES_PER_NODE] == "8"
    assert env[contract.ENV_MASTER_ADDR] == master.clusterIP
    assert len((env[contract.ENV_WORKER_HOSTS] or "").split(",")) == 4

    second = gpu_nodes.add(2)
    on = placed_whole(kube, aijobs, "gang", 4)
    assert sorted(on) == sorted(first + second), "one pod on each of the four GPU nodes"
    running = aijobs.wait_phase("gang", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    assert running.status.group is not None
    assert (running.status.group.nodes, running.status.group.pods) == (4, 4)


def test_a_group_that_fits_is_placed_whole_at_once(
    kube: Client, aijobs: AIJobs, namespace: str, gpu_nodes: GpuNodes
) -> None:
    nodes = gpu_nodes.add(2)
    aijobs.create(group(namespace, "pair", 2, gpu_nodes.product))
    on = placed_whole(kube, aijobs, "pair", 2)
    assert sorted(on) == sorted(nodes)
    job = aijobs.job("pair")
    assert job is not None
    assert job.spec is not None
    assert job.spec.suspend is False
    assert job.spec.successPolicy is not None


def test_a_failed_pod_restarts_the_whole_group_as_one_retry(
    kube: Client, aijobs: AIJobs, namespace: str, gpu_nodes: GpuNodes
) -> None:
    gpu_nodes.add(2)
    aijobs.create(group(namespace, "again", 2, gpu_nodes.product))
    placed_whole(kube, aijobs, "again", 2)
    first = aijobs.job("again")
    assert first is not None
    assert first.metadata is not None
    first_uid = first.metadata.uid
    rank_1 = next(
        pod
        for pod in aijobs.pods("again")
        if pod.metadata is not None
        and (pod.metadata.labels or {}).get("batch.kubernetes.io/job-completion-index") == "1"
    )
    assert rank_1.metadata is not None
    kube.delete(Pod, str(rank_1.metadata.name), namespace=namespace)  # exits 137: a failure

    def restarted() -> bool:
        job = aijobs.job("again")
        assert job is not None
        assert job.metadata is not None
        assert job.metadata.uid != first_uid, "a new Job for the new attempt"
        status = aijobs.get("again").status
        assert status.group is not None
        assert status.group.restarts == 1
        return True

    eventually(restarted, timeout=Timeout.SIMULATED_JOB, what="the group restarted")
    placed_whole(kube, aijobs, "again", 2)
    status = aijobs.get("again").status
    assert status.failed_attempts == 1
    assert status.attempts == 2
    env = aijobs.worker_env("again")
    assert env[contract.ENV_FAILED_ATTEMPTS] == "1"


def test_an_evicted_pod_restarts_the_whole_group_without_a_retry(
    kube: Client, aijobs: AIJobs, namespace: str, gpu_nodes: GpuNodes
) -> None:
    gpu_nodes.add(2)
    aijobs.create(group(namespace, "evicted", 2, gpu_nodes.product))
    placed_whole(kube, aijobs, "evicted", 2)
    first = aijobs.job("evicted")
    assert first is not None
    assert first.metadata is not None
    first_uid = first.metadata.uid
    pod = aijobs.pods("evicted")[0]
    assert pod.metadata is not None
    victim = str(pod.metadata.name)
    eviction = Pod.Eviction(metadata=ObjectMeta(name=victim, namespace=namespace))
    kube.create(eviction, name=victim, namespace=namespace)

    def restarted() -> bool:
        job = aijobs.job("evicted")
        assert job is not None
        assert job.metadata is not None
        assert job.metadata.uid != first_uid, "a new Job for the new attempt"
        status = aijobs.get("evicted").status
        assert status.group is not None
        assert (status.group.disruptions, status.group.restarts) == (1, 0)
        return True

    eventually(restarted, timeout=Timeout.SIMULATED_JOB, what="the group restarted")
    placed_whole(kube, aijobs, "evicted", 2)
    status = aijobs.get("evicted").status
    assert (status.failed_attempts, status.attempts) == (0, 1), "no retry spent"
    assert Reason.PREEMPTED in aijobs.event_reasons("evicted")


def test_a_two_node_cpu_job_is_accepted_and_runs(aijobs: AIJobs, namespace: str) -> None:
    aijobs.create(
        manifest(
            "cpu-pair",
            namespace,
            framework="pytorch",
            model=None,
            code=CODE,
            dataset={"name": "digits"},
            resources={"gpu": 0, "cpu": "500m"},
            distributed={"nodes": 2},
        )
    )
    done = aijobs.wait_phase("cpu-pair", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    assert done.status.group is not None
    assert (done.status.group.nodes, done.status.group.processes_per_node) == (2, 1)
    env = aijobs.worker_env("cpu-pair")
    assert env[contract.ENV_NODES] == "2"
    assert contract.ENV_MASTER_ADDR in env
