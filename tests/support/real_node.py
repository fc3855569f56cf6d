"""Pods for the real node of the local cluster (hack/node/): where they go and how they end.

The real node (`aijob-node-0`, label `aijob.dev/real-node=true`) carries the taint
`aijob.dev/real-node=true:NoSchedule` so that simulated-test pods never land on it;
pods meant for it carry the matching toleration and node selector built here. Images are
the ones `make images` built and imported (`aijob/<name>:dev`, pull policy IfNotPresent).
`node_daemons_stopped()` stops the node's kubelet and containerd and starts them again with
their own flags (fault tests; tests/support/daemons.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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

from tests.support import daemons
from tests.support.daemons import Daemon
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


NODE_DIR = Path(__file__).resolve().parents[2] / ".cluster" / "node"
"""Where hack/node/node-up.sh keeps the node daemons' pid files and logs."""
CONTAINERD_SOCKET = Path("/run/aijob-node/containerd/containerd.sock")
NODE_DAEMON_GRACE_SECONDS = 20.0


def node_daemon(name: str) -> Daemon:
    """A daemon of the real node (containerd, kubelet, kube-proxy) as node-up.sh started it."""
    return daemons.read(name, NODE_DIR / f"{name}.pid", NODE_DIR / f"{name}.log")


def containerd_answers() -> bool:
    """Whether the node's containerd answers on its socket."""
    command = ["ctr", "--address", str(CONTAINERD_SOCKET), "version"]
    return subprocess.run(command, capture_output=True, timeout=10, check=False).returncode == 0


@contextmanager
def node_daemons_stopped() -> Iterator[list[Daemon]]:
    """The real node's kubelet and containerd stopped for the block (SIGTERM, SIGKILL after
    20 s; the containers run on in their shims), then started again with the same flags,
    containerd first and answering before the kubelet, however the block ends. This
    disturbs every pod of the node: hold the exclusive lock."""
    stopped = [node_daemon("kubelet"), node_daemon("containerd")]
    try:
        for daemon in stopped:
            daemons.stop(daemon, NODE_DAEMON_GRACE_SECONDS)
        yield stopped
    finally:
        for daemon in reversed(stopped):
            if daemons.running(daemon):
                continue
            daemons.start(daemon)
            if daemon.name == "containerd":
                eventually(containerd_answers, timeout=Timeout.PROCESS, what="containerd")
