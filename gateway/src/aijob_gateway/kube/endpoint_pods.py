"""Pod discovery: the endpoints' model server pods, watched, kept in each endpoint's pod set.

One reflector watches the pods labelled `aijob.dev/endpoint` in every namespace (the
label the operator puts on each replica, its value the endpoint's name); this sink
turns each pod into the dispatcher's view of it: its address (the pod IP and the
container port named `http`) and whether it may take requests. A ready pod joins its
endpoint's pod set, a pod that is not ready (starting, loading its model, draining:
terminating pods count as not ready, so they finish what they hold and get nothing
new) stays in it without traffic, and a deleted pod leaves it (the dispatcher fails
its in-flight requests over to another pod).

The gateway runs in the cluster and reaches pod IPs directly, as kube-proxy would;
the integration tests, on the host, reach them the same way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from aijob_api.constants import LABEL_ENDPOINT_NAME

from aijob_gateway.dispatch.pods import Pod, PodSet

SERVE_PORT_NAME: Final = "http"
"""The name of the model server's container port on an endpoint's pods (the operator's)."""
DEFAULT_SERVE_PORT: Final = 8080
"""The model server's port when no container port is named `http` (docs/serving.md)."""


@dataclass(frozen=True)
class ServingPod:
    """A model server pod as the dispatcher sees it."""

    namespace: str
    endpoint: str
    pod: Pod
    ready: bool


def _serve_port(spec: dict[str, Any]) -> int:
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == SERVE_PORT_NAME and port.get("containerPort"):
                return int(port["containerPort"])
    return DEFAULT_SERVE_PORT


def _host(ip: str) -> str:
    try:
        return f"[{ip}]" if ipaddress.ip_address(ip).version == 6 else ip
    except ValueError:
        return ip


def _is_ready(obj: dict[str, Any]) -> bool:
    metadata, status = obj.get("metadata") or {}, obj.get("status") or {}
    if metadata.get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    if not status.get("podIP"):
        return False
    return any(
        condition.get("type") == "Ready" and condition.get("status") == "True"
        for condition in status.get("conditions") or []
    )


def serving_pod(obj: dict[str, Any]) -> ServingPod | None:
    """The dispatcher's view of a pod; None for a pod of no endpoint."""
    metadata = obj.get("metadata") or {}
    endpoint = (metadata.get("labels") or {}).get(LABEL_ENDPOINT_NAME)
    name = metadata.get("name")
    if not endpoint or not name:
        return None
    ip = (obj.get("status") or {}).get("podIP")
    address = f"http://{_host(ip)}:{_serve_port(obj.get('spec') or {})}" if ip else ""
    return ServingPod(
        namespace=metadata.get("namespace", ""),
        endpoint=endpoint,
        pod=Pod(name=name, address=address),
        ready=_is_ready(obj),
    )


class PodSets(Protocol):
    """Where the pods go: each endpoint's pod set (the dispatcher registry)."""

    def pods(self, namespace: str, endpoint: str) -> PodSet:
        """The pod set of an endpoint, made on first use."""
        ...

    def pod_set_keys(self) -> list[tuple[str, str]]:
        """Every (namespace, endpoint) that has a pod set."""
        ...


class EndpointPods:
    """A reflector sink keeping every endpoint's pod set equal to its pods.

    `on_emptied(namespace, endpoint)` is told when an endpoint's last pod left (so what
    is kept for a deleted endpoint can go).
    """

    def __init__(
        self, pod_sets: PodSets, on_emptied: Callable[[str, str], None] | None = None
    ) -> None:
        self._pod_sets = pod_sets
        self._on_emptied = on_emptied or (lambda namespace, endpoint: None)
        self._endpoint_of: dict[tuple[str, str], str] = {}
        """(namespace, pod name) to the endpoint it serves (a label may change)."""
        self.synced = False

    async def replace(self, objects: AsyncIterator[dict[str, Any]]) -> None:
        """A fresh list: every pod set becomes exactly the pods listed for its endpoint."""
        listed: dict[tuple[str, str], dict[Pod, bool]] = {}
        endpoint_of: dict[tuple[str, str], str] = {}
        async for obj in objects:
            serving = serving_pod(obj)
            if serving is None:
                continue
            listed.setdefault((serving.namespace, serving.endpoint), {})[serving.pod] = (
                serving.ready
            )
            endpoint_of[(serving.namespace, serving.pod.name)] = serving.endpoint
        emptied = []
        for key in set(self._pod_sets.pod_set_keys()) | set(listed):
            self._pod_sets.pods(*key).sync(listed.get(key, {}))
            if key not in listed:
                emptied.append(key)
        self._endpoint_of = endpoint_of
        self.synced = True
        for namespace, endpoint in emptied:
            self._on_emptied(namespace, endpoint)

    def apply(self, event_type: str, obj: dict[str, Any]) -> None:
        """A pod was added, changed or deleted."""
        metadata = obj.get("metadata") or {}
        key = (metadata.get("namespace", ""), metadata.get("name", ""))
        serving = None if event_type == "DELETED" else serving_pod(obj)
        previous = self._endpoint_of.get(key)
        if previous is not None and (serving is None or serving.endpoint != previous):
            pods = self._pod_sets.pods(key[0], previous)
            pods.remove(key[1])
            del self._endpoint_of[key]
            if not len(pods):
                self._on_emptied(key[0], previous)
        if serving is not None:
            self._pod_sets.pods(serving.namespace, serving.endpoint).upsert(
                serving.pod, ready=serving.ready
            )
            self._endpoint_of[key] = serving.endpoint

    def mark_unsynced(self) -> None:
        """The watch broke: the pods known last keep serving until the next list."""
        self.synced = False
