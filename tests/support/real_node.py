"""Pods for the real node of the local cluster (hack/node/): where they go and how they end.

The real node (`aijob-node-0`, label `aijob.dev/real-node=true`) carries the taint
`aijob.dev/real-node=true:NoSchedule` so that simulated-test pods never land on it;
pods meant for it carry the matching toleration and node selector built here. Images are
the ones `make images` built and imported (`aijob/<name>:dev`, pull policy IfNotPresent).
"""

from __future__ import annotations

from aijob_api.contract import CONTAINER_NAME
from lightkube import Client
from lightkube.models.core_v1 import (
    Container,
    ContainerStateTerminated,
    PodSpec,
    ResourceRequirements,
    Toleration,
)
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Node, Pod

from tests.support.eventually import Timeout, eventually

REAL_NODE_LABEL = "aijob.dev/real-node"
REAL_NODE_SELECTOR = {REAL_NODE_LABEL: "true"}
REAL_NODE_TOLERATION = Toleration(
    key=REAL_NODE_LABEL, operator="Equal", value="true", effect="NoSchedule"
)
BASE_IMAGE = "aijob/python-base:dev"
"""The locally built base image (Debian bookworm + python3), on the node after node-up."""
TERMINAL_PHASES = {"Succeeded", "Failed"}


def ready_real_nodes(kube: Client) -> list[Node]:
    """Nodes labelled as real nodes whose Ready condition is True."""
    nodes = kube.list(Node, labels={REAL_NODE_LABEL: "true"})
    return [
        node
        for node in nodes
        if node.status
        and any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])
    ]


def node_images(node: Node) -> set[str]:
    """Every name of every image the node reports."""
    images = (node.status.images if node.status else None) or []
    return {name for image in images for name in image.names or []}


def has_image(node: Node, reference: str) -> bool:
    """Whether the node holds `reference` (short names match their normalized form)."""
    return any(name == reference or name.endswith("/" + reference) for name in node_images(node))


def real_pod(
    name: str,
    command: list[str],
    *,
    image: str = BASE_IMAGE,
    restart_policy: str = "Never",
    grace_seconds: int | None = None,
) -> Pod:
    """A pod pinned to the real node that runs `command` from a local image."""
    return Pod(
        metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"}),
        spec=real_pod_spec(
            command, image=image, restart_policy=restart_policy, grace=grace_seconds
        ),
    )


def real_pod_spec(
    command: list[str], *, image: str = BASE_IMAGE, restart_policy: str = "Never", grace: int | None
) -> PodSpec:
    """The spec of `real_pod` (also a Job's pod template)."""
    return PodSpec(
        restartPolicy=restart_policy,
        nodeSelector=dict(REAL_NODE_SELECTOR),
        tolerations=[REAL_NODE_TOLERATION],
        terminationGracePeriodSeconds=grace,
        automountServiceAccountToken=True,
        containers=[
            Container(
                name="main",
                image=image,
                imagePullPolicy="IfNotPresent",
                command=command,
                # No CPU request: the node's 2 CPUs are shared with every engineer's real
                # pods, and a short test command must not wait for a CPU to be free.
                resources=ResourceRequirements(limits={"memory": "1Gi"}),
            )
        ],
    )


def terminated_state(pod: Pod) -> ContainerStateTerminated | None:
    """The main container's terminated state, once it has one."""
    statuses = (pod.status.containerStatuses if pod.status else None) or []
    for status in statuses:
        if status.name == "main" and status.state and status.state.terminated:
            return status.state.terminated
    return None


def finished_worker_pod(kube: Client, namespace: str, name: str, lines: list[str]) -> str:
    """A pod on the real node whose `worker` container (the name the operator gives a
    job's container) printed `lines` and exited; returns its name once it has."""
    pod = real_pod(name, ["sh", "-c", "; ".join(f"echo '{line}'" for line in lines)])
    assert pod.spec is not None
    pod.spec.containers[0].name = CONTAINER_NAME
    kube.create(pod, namespace=namespace)

    def exited() -> bool:
        current = kube.get(Pod, name, namespace=namespace)
        return current.status is not None and current.status.phase == "Succeeded"

    eventually(exited, timeout=Timeout.REAL_POD, what=f"pod {name} to finish")
    return name
