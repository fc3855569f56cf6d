"""Pods for the real node of the local cluster (hack/node/): where they go and how they end.

The real node (`aijob-node-0`, label `aijob.dev/real-node=true`) carries the taint
`aijob.dev/real-node=true:NoSchedule` so that simulated-test pods never land on it;
pods meant for it carry the matching toleration and node selector built here. Images are
the ones `make images` built and imported (`aijob/<name>:dev`, pull policy IfNotPresent).
`node_daemons_stopped()` stops the node's kubelet and containerd and starts them again with
their own flags (fault tests; tests/support/daemons.py), the kubelet once containerd's CRI
serves (`cri_refusal`: the kubelet's first gRPC call, made over HTTP/2 with no CRI client),
again if it exits, until the node is Ready by the new kubelet's own status.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from aijob_api.contract import CONTAINER_NAME
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import DataReceived, ResponseReceived, StreamEnded, StreamReset, TrailersReceived
from lightkube import Client
from lightkube.models.core_v1 import (
    Container,
    ContainerStateTerminated,
    NodeCondition,
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


NODE_NAME = "aijob-node-0"
NODE_DIR = Path(__file__).resolve().parents[2] / ".cluster" / "node"
"""Where hack/node/node-up.sh keeps the node daemons' pid files and logs."""
CONTAINERD_SOCKET = Path("/run/aijob-node/containerd/containerd.sock")
NODE_DAEMON_GRACE_SECONDS = 20.0
LOG_TAIL_LINES = 8


def node_daemon(name: str) -> Daemon:
    """A daemon of the real node (containerd, kubelet, kube-proxy) as node-up.sh started it."""
    return daemons.read(name, NODE_DIR / f"{name}.pid", NODE_DIR / f"{name}.log")


def cri_refusal(socket_path: Path = CONTAINERD_SOCKET, timeout: float = 5.0) -> str | None:
    """Why containerd's CRI would refuse the kubelet now; None when it serves.

    The kubelet's first call, and the one that made it exit in CI ("server is not
    initialized yet" while containerd recovers its state, though `ctr version` answered),
    is the CRI's `RuntimeService/Version`: this makes that gRPC call (an empty request
    over HTTP/2 on the unix socket) and reads its `grpc-status`, with no CRI client."""
    connection = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
    connection.initiate_connection()
    headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/runtime.v1.RuntimeService/Version"),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    connection.send_headers(1, headers)
    connection.send_data(1, b"\0\0\0\0\0", end_stream=True)  # not compressed, 0 bytes
    answer: dict[str, str] = {}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(socket_path))
            sock.sendall(connection.data_to_send())
            while data := sock.recv(65536):
                for event in connection.receive_data(data):
                    if isinstance(event, ResponseReceived | TrailersReceived):
                        answer.update((str(k), str(v)) for k, v in event.headers or [])
                    elif isinstance(event, DataReceived):
                        connection.acknowledge_received_data(event.flow_controlled_length, 1)
                    elif isinstance(event, StreamEnded | StreamReset):
                        return _grpc_refusal(answer)
                sock.sendall(connection.data_to_send())
    except OSError as error:
        return f"no connection: {error}"
    return f"the connection closed first: {answer}"


def _grpc_refusal(answer: dict[str, str]) -> str | None:
    if answer.get("grpc-status") == "0":
        return None
    return f"grpc-status {answer.get('grpc-status')}: {answer.get('grpc-message', '')}"


def cri_serves() -> bool:
    """True once containerd's CRI answers the kubelet's first call; AssertionError (with
    the CRI's answer) until then, for `eventually`."""
    refusal = cri_refusal()
    assert refusal is None, f"containerd's CRI: {refusal}"
    return True


def ready_condition(kube: Client) -> NodeCondition | None:
    """The real node's Ready condition as the API server has it."""
    node = kube.get(Node, NODE_NAME)
    conditions = (node.status.conditions if node.status else None) or []
    return next((c for c in conditions if c.type == "Ready"), None)


def heard_from_kubelet(kube: Client, after: datetime | None) -> bool:
    """Whether the node is Ready by a status posted later than the heartbeat `after`.

    The Ready condition alone says nothing after a restart: the node controller keeps it
    True for its grace period (40 s) after the last heartbeat, so a kubelet that exited at
    once leaves a Ready node behind. A (re)started kubelet posts its status at once, with
    a new heartbeat (whole seconds; otherwise every 5 min)."""
    ready = ready_condition(kube)
    return (
        ready is not None
        and ready.status == "True"
        and ready.lastHeartbeatTime is not None
        and (after is None or ready.lastHeartbeatTime > after)
    )


@dataclass
class NodeRestart:
    """What bringing the node's daemons back took (filled in as `node_daemons_stopped`'s
    block ends)."""

    stop_seconds: float = 0.0
    """SIGTERM to the kubelet → both daemons gone."""
    cri_seconds: float | None = None
    """containerd started → its CRI serves (None where not awaited)."""
    ready_seconds: float | None = None
    """The daemons started → the node Ready by the new kubelet's own status."""
    kubelet_starts: int = 0
    """How often the kubelet was started (more than once: it exited and was started again)."""
    heartbeat: datetime | None = None
    """The node's last heartbeat before the stop (a newer one comes from the new kubelet)."""


@contextmanager
def node_daemons_stopped(kube: Client, *, kubelet_first: bool = False) -> Iterator[NodeRestart]:
    """The real node's kubelet and containerd stopped for the block (SIGTERM, SIGKILL after
    20 s; the containers run on in their shims), then started again with the same flags
    however the block ends: containerd first, the kubelet once containerd's CRI serves,
    then, until the node is Ready by the new kubelet's own status, either daemon started
    again whenever it has exited. If the node is not back in `Timeout.REAL_POD`, this fails
    loudly with both daemons' last log lines, leaving them running.

    `kubelet_first` starts the kubelet before containerd and lets it exit (CI's failure: no
    CRI serving yet) to show that the retry brings the node back. This disturbs every pod
    of the node: hold the exclusive lock."""
    restart = NodeRestart()
    stopped = [node_daemon("kubelet"), node_daemon("containerd")]
    ready = ready_condition(kube)
    restart.heartbeat = ready.lastHeartbeatTime if ready else None
    began = time.monotonic()
    try:
        for daemon in stopped:
            daemons.stop(daemon, NODE_DAEMON_GRACE_SECONDS)
        restart.stop_seconds = time.monotonic() - began
        yield restart
    finally:
        _bring_back(kube, {d.name: d for d in stopped}, restart, kubelet_first=kubelet_first)


def _bring_back(
    kube: Client, current: dict[str, Daemon], restart: NodeRestart, *, kubelet_first: bool
) -> None:
    started = time.monotonic()

    def start(name: str) -> None:
        if not daemons.running(current[name]):
            current[name] = replace(current[name], pid=daemons.start(current[name]))
            restart.kubelet_starts += name == "kubelet"

    if kubelet_first:
        start("kubelet")
        with suppress(TimeoutError):  # if it waits for the CRI instead, so much the better
            eventually(
                lambda: not daemons.running(current["kubelet"]),
                timeout=Timeout.PROCESS,
                interval=0.2,
                what="the kubelet to exit without a CRI",
            )
    try:
        start("containerd")
        cri_began = time.monotonic()
        eventually(cri_serves, timeout=Timeout.PROCESS, interval=0.1, what="the CRI")
        restart.cri_seconds = time.monotonic() - cri_began
    finally:  # whatever happened, the kubelet is never left stopped
        if not restart.kubelet_starts:
            start("kubelet")

        def back() -> bool:
            for name in ("containerd", "kubelet"):
                if not daemons.running(current[name]):
                    start(name)
                    raise AssertionError(f"{name} had exited: started again")
            try:
                heard = heard_from_kubelet(kube, restart.heartbeat)
            except Exception as error:  # the API server busy: keep minding the daemons
                raise AssertionError(f"reading the node: {error!r}") from error
            assert heard, "not Ready by the new kubelet's status"
            return True

        try:
            eventually(back, timeout=Timeout.REAL_POD, interval=0.5, what="the node back")
        except TimeoutError as error:
            raise NodeNotBackError(f"{error}\n{_log_tails(current.values())}") from error
        restart.ready_seconds = time.monotonic() - started


class NodeNotBackError(AssertionError):
    """The real node did not come back after its daemons restarted (the daemons run)."""


def _log_tails(node_daemons: Iterable[Daemon]) -> str:
    parts = []
    for daemon in node_daemons:
        lines = daemon.log_file.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        state = "running" if daemons.running(daemon) else "exited"
        parts.append(f"{daemon.name} (pid {daemon.pid}, {state}), {daemon.log_file}:")
        parts.extend(f"    {line[:300]}" for line in lines)
    return "\n".join(parts)
