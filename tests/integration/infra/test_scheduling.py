"""The real kube-scheduler places GPU pods on GPU nodes, refuses what does not fit, preempts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from lightkube import Client
from lightkube.models.batch_v1 import JobSpec
from lightkube.models.core_v1 import (
    Container,
    NodeSpec,
    NodeStatus,
    PodSpec,
    PodTemplateSpec,
    ResourceRequirements,
    Taint,
    Toleration,
)
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Node, Pod
from lightkube.resources.scheduling_v1 import PriorityClass

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually

GPU = "nvidia.com/gpu"
GPU_TOLERATION = Toleration(key=GPU, operator="Exists", effect="NoSchedule")


@pytest.fixture
def gpu_nodes(kube: Client, cluster: ClusterInfo) -> list[Node]:
    """The cluster's GPU nodes; skips (saying why) on a cluster that has none."""
    nodes = [n for n in kube.list(Node) if n.status and GPU in (n.status.allocatable or {})]
    if not nodes:
        pytest.skip("this cluster has no node with nvidia.com/gpu allocatable")
    return nodes


def gpu_container(gpus: int, command: list[str] | None = None) -> Container:
    limits = {GPU: str(gpus)} if gpus else {}
    return Container(
        name="main",
        image="busybox:1.36",
        command=command or ["true"],
        resources=ResourceRequirements(limits=limits, requests={"cpu": "10m", **limits}),
    )


def make_job(
    name: str, gpus: int, backoff_limit: int = 0, annotations: dict[str, str] | None = None
) -> Job:
    return Job(
        metadata=ObjectMeta(name=name),
        spec=JobSpec(
            backoffLimit=backoff_limit,
            template=PodTemplateSpec(
                metadata=ObjectMeta(annotations=annotations or {}),
                spec=PodSpec(
                    restartPolicy="Never",
                    containers=[gpu_container(gpus)],
                    tolerations=[GPU_TOLERATION],
                ),
            ),
        ),
    )


def job_pods(kube: Client, namespace: str, job: str) -> list[Pod]:
    return list(kube.list(Pod, namespace=namespace, labels={"job-name": job}))


def job_condition(kube: Client, namespace: str, name: str, kind: str) -> bool:
    job = kube.get(Job, name, namespace=namespace)
    conditions = (job.status.conditions if job.status else None) or []
    return any(c.type == kind and c.status == "True" for c in conditions)


def test_job_with_one_gpu_runs_on_a_gpu_node(
    kube: Client, namespace: str, gpu_nodes: list[Node]
) -> None:
    kube.create(make_job("one-gpu", gpus=1), namespace=namespace)

    eventually(
        lambda: job_condition(kube, namespace, "one-gpu", "Complete"), timeout=Timeout.SIMULATED_JOB
    )

    [pod] = job_pods(kube, namespace, "one-gpu")
    assert pod.spec is not None
    assert pod.spec.nodeName in {n.metadata.name for n in gpu_nodes if n.metadata}


def test_job_with_nine_gpus_stays_pending_for_lack_of_gpus(
    kube: Client, namespace: str, gpu_nodes: list[Node]
) -> None:
    kube.create(make_job("nine-gpus", gpus=9), namespace=namespace)

    def unschedulable_message() -> str:
        pods = job_pods(kube, namespace, "nine-gpus")
        assert pods, "the Job controller has not created the pod yet"
        conditions = (pods[0].status.conditions if pods[0].status else None) or []
        scheduled = [c for c in conditions if c.type == "PodScheduled"]
        assert scheduled, f"no PodScheduled condition yet: {conditions}"
        assert scheduled[0].status == "False", f"not marked unschedulable: {conditions}"
        assert scheduled[0].reason == "Unschedulable"
        return scheduled[0].message or ""

    message = eventually(unschedulable_message, timeout=Timeout.SCHEDULING)
    assert f"Insufficient {GPU}" in message
    pods = job_pods(kube, namespace, "nine-gpus")
    assert pods[0].status is not None
    assert pods[0].status.phase == "Pending"


def test_pod_failing_with_exit_code_3_fails_the_job_at_its_backoff_limit(
    kube: Client, namespace: str, cluster: ClusterInfo
) -> None:
    if not cluster.local:
        pytest.skip("simulated exit codes need the local cluster's KWOK stages")
    job = make_job("exit-3", gpus=0, backoff_limit=1, annotations={"aijob.dev/fake-exit-code": "3"})
    kube.create(job, namespace=namespace)

    eventually(
        lambda: job_condition(kube, namespace, "exit-3", "Failed"), timeout=Timeout.SIMULATED_JOB
    )

    final = kube.get(Job, "exit-3", namespace=namespace)
    assert final.status is not None
    failed_conditions = [c for c in final.status.conditions or [] if c.type == "Failed"]
    assert failed_conditions[0].reason == "BackoffLimitExceeded"
    assert final.status.failed == 2, "backoffLimit 1 means two attempts"
    codes = set()
    for pod in job_pods(kube, namespace, "exit-3"):
        for status in (pod.status.containerStatuses if pod.status else None) or []:
            if status.state and status.state.terminated:
                codes.add(status.state.terminated.exitCode)
    assert codes == {3}


@pytest.fixture
def private_gpu_node(kube: Client, cluster: ClusterInfo) -> Iterator[str]:
    """A simulated 8-GPU node only this test's pods may use (so other tests cannot disturb it)."""
    if not cluster.local:
        pytest.skip("creating simulated nodes needs the local cluster's KWOK controller")
    name = f"kwok-test-gpu-{uuid.uuid4().hex[:6]}"
    resources = {"cpu": "8", "memory": "64Gi", "pods": "110", GPU: "8"}
    node = Node(
        metadata=ObjectMeta(
            name=name,
            annotations={"kwok.x-k8s.io/node": "fake"},
            labels={"type": "kwok", "kubernetes.io/hostname": name, "aijob.dev/test-node": name},
        ),
        spec=NodeSpec(taints=[Taint(key="aijob.dev/test-node", value=name, effect="NoSchedule")]),
        status=NodeStatus(capacity=resources, allocatable=resources),
    )
    kube.create(node)
    try:
        eventually(lambda: node_ready(kube, name), timeout=Timeout.API, what=f"node {name} Ready")
        yield name
    finally:
        kube.delete(Node, name)


@pytest.fixture
def priority_classes(kube: Client) -> Iterator[tuple[str, str]]:
    """A low and a high PriorityClass made for one test (cluster-scoped, deleted after)."""
    suffix = uuid.uuid4().hex[:6]
    low, high = f"infra-low-{suffix}", f"infra-high-{suffix}"
    kube.create(PriorityClass(metadata=ObjectMeta(name=low), value=100))
    kube.create(PriorityClass(metadata=ObjectMeta(name=high), value=100000))
    try:
        yield low, high
    finally:
        kube.delete(PriorityClass, low)
        kube.delete(PriorityClass, high)


def node_ready(kube: Client, name: str) -> bool:
    node = kube.get(Node, name)
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def pinned_pod(name: str, node: str, gpus: int, priority_class: str) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name, labels={"app": "preemption"}),
        spec=PodSpec(
            restartPolicy="Never",
            priorityClassName=priority_class,
            nodeSelector={"aijob.dev/test-node": node},
            tolerations=[
                GPU_TOLERATION,
                Toleration(key="aijob.dev/test-node", operator="Exists", effect="NoSchedule"),
            ],
            containers=[gpu_container(gpus, ["sleep", "3600"])],
        ),
    )


def pod_phase(kube: Client, namespace: str, name: str) -> str | None:
    pod = kube.get(Pod, name, namespace=namespace)
    return pod.status.phase if pod.status else None


def test_high_priority_pod_preempts_a_low_priority_one_when_gpus_are_full(
    kube: Client, namespace: str, private_gpu_node: str, priority_classes: tuple[str, str]
) -> None:
    low, high = priority_classes
    for index in range(2):
        kube.create(pinned_pod(f"low-{index}", private_gpu_node, 4, low), namespace=namespace)
    for index in range(2):
        eventually(
            lambda i=index: pod_phase(kube, namespace, f"low-{i}") == "Running",  # type: ignore[misc]
            timeout=Timeout.SCHEDULING,
            what=f"low-{index} running",
        )

    kube.create(pinned_pod("high", private_gpu_node, 4, high), namespace=namespace)

    eventually(
        lambda: pod_phase(kube, namespace, "high") == "Running",
        timeout=Timeout.SCHEDULING,
        what="the high-priority pod to run after preempting",
    )

    def one_low_pod_left() -> bool:
        names = {p.metadata.name for p in kube.list(Pod, namespace=namespace) if p.metadata}
        return len(names & {"low-0", "low-1"}) == 1

    eventually(one_low_pod_left, timeout=Timeout.SCHEDULING, what="exactly one low pod preempted")
    high_pod = kube.get(Pod, "high", namespace=namespace)
    assert high_pod.spec is not None
    assert high_pod.spec.nodeName == private_gpu_node
