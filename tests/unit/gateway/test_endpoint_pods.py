"""Pod discovery: a pod's address and readiness, and every endpoint's pod set kept equal to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aijob_gateway.dispatch import DispatchPolicy, Pod
from aijob_gateway.dispatch.registry import DispatcherRegistry
from aijob_gateway.kube.endpoint_pods import EndpointPods, serving_pod

from tests.unit.gateway.dispatch.fakes import OK, Reply


def pod_object(
    name: str,
    endpoint: str | None = "iris",
    *,
    namespace: str = "team-a",
    ip: str | None = "10.0.0.7",
    phase: str = "Running",
    ready: bool = True,
    terminating: bool = False,
    port: int | None = 8080,
) -> dict[str, Any]:
    """A pod as the API server lists it."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {}}
    if endpoint is not None:
        metadata["labels"]["aijob.dev/endpoint"] = endpoint
    if terminating:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    ports = [{"name": "metrics", "containerPort": 9090}]
    if port is not None:
        ports.append({"name": "http", "containerPort": port})
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    if ip is not None:
        status["podIP"] = ip
    return {
        "metadata": metadata,
        "spec": {"containers": [{"name": "server", "ports": ports}]},
        "status": status,
    }


@pytest.mark.parametrize(
    ("changes", "address", "ready"),
    [
        ({}, "http://10.0.0.7:8080", True),
        ({"port": 18080}, "http://10.0.0.7:18080", True),
        ({"port": None}, "http://10.0.0.7:8080", True),
        ({"ip": "fd00::7"}, "http://[fd00::7]:8080", True),
        ({"ready": False}, "http://10.0.0.7:8080", False),
        ({"terminating": True}, "http://10.0.0.7:8080", False),
        ({"phase": "Pending", "ip": None}, "", False),
        ({"phase": "Succeeded"}, "http://10.0.0.7:8080", False),
    ],
    ids=["ready", "http port", "default port", "ipv6", "unready", "terminating", "new", "ended"],
)
def test_a_pods_address_and_readiness(changes: dict[str, Any], address: str, ready: bool) -> None:
    serving = serving_pod(pod_object("iris-0", **changes))
    assert serving is not None
    assert (serving.namespace, serving.endpoint) == ("team-a", "iris")
    assert serving.pod == Pod("iris-0", address)
    assert serving.ready is ready


def test_a_pod_of_no_endpoint_is_ignored() -> None:
    assert serving_pod(pod_object("web", endpoint=None)) is None


async def listed(objects: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for obj in objects:
        yield obj


async def send(pod: Pod, request: object, timeout_s: float) -> Reply:
    return OK


def registry() -> DispatcherRegistry[object, Reply]:
    return DispatcherRegistry(send, DispatchPolicy())


def names(
    pods: DispatcherRegistry[object, Reply], namespace: str, endpoint: str
) -> dict[str, bool]:
    return {state.name: state.ready for state in pods.pods(namespace, endpoint)}


async def test_a_list_makes_each_pod_set_exactly_its_pods() -> None:
    pods = registry()
    pods.pods("team-a", "gone").upsert(Pod("old", "http://10.0.0.1:8080"), ready=True)
    sink = EndpointPods(pods)
    await sink.replace(
        listed(
            [
                pod_object("iris-0"),
                pod_object("iris-1", ready=False),
                pod_object("wine-0", "wine"),
                pod_object("iris-0", namespace="team-b"),
            ]
        )
    )
    assert sink.synced
    assert names(pods, "team-a", "iris") == {"iris-0": True, "iris-1": False}
    assert names(pods, "team-a", "wine") == {"wine-0": True}
    assert names(pods, "team-b", "iris") == {"iris-0": True}
    assert names(pods, "team-a", "gone") == {}


async def test_events_add_change_move_and_remove_pods() -> None:
    pods = registry()
    sink = EndpointPods(pods)
    await sink.replace(listed([]))
    sink.apply("ADDED", pod_object("iris-0", ready=False))
    assert names(pods, "team-a", "iris") == {"iris-0": False}
    sink.apply("MODIFIED", pod_object("iris-0"))
    assert names(pods, "team-a", "iris") == {"iris-0": True}
    sink.apply("MODIFIED", pod_object("iris-0", "wine"))
    assert names(pods, "team-a", "iris") == {}
    assert names(pods, "team-a", "wine") == {"iris-0": True}
    sink.apply("MODIFIED", pod_object("iris-0", endpoint=None))
    assert names(pods, "team-a", "wine") == {}
    sink.apply("ADDED", pod_object("iris-1"))
    sink.apply("DELETED", pod_object("iris-1"))
    sink.apply("DELETED", pod_object("never-seen"))
    assert names(pods, "team-a", "iris") == {}


async def test_a_deleted_pod_wakes_the_requests_running_on_it() -> None:
    pods = registry()
    sink = EndpointPods(pods)
    await sink.replace(listed([pod_object("iris-0")]))
    state = pods.pods("team-a", "iris").get("iris-0")
    assert state is not None
    gone = state.gone()
    sink.apply("DELETED", pod_object("iris-0"))
    assert gone.done()


def test_the_registry_gives_one_dispatcher_per_pod_set_at_the_endpoints_concurrency() -> None:
    pods = registry()
    pod_set = pods.pods("team-a", "iris")
    dispatcher = pods.dispatcher("team-a", "iris", concurrency=8)
    assert dispatcher.pods is pod_set
    assert dispatcher.concurrency == 8
    assert pods.dispatcher("team-a", "iris", concurrency=2) is dispatcher
    assert dispatcher.concurrency == 2
    assert pods.get("team-b", "iris") is None
    assert pods.pod_set_keys() == [("team-a", "iris")]


def test_the_registry_forgets_an_endpoint_only_once_it_has_no_pod() -> None:
    pods = registry()
    pod_set = pods.pods("team-a", "iris")
    pod_set.upsert(Pod("iris-0", "http://10.0.0.7:8080"), ready=True)
    assert not pods.forget("team-a", "iris")
    pod_set.remove("iris-0")
    assert pods.forget("team-a", "iris")
    assert pods.get("team-a", "iris") is None
    assert pods.forget("team-a", "never")


async def test_an_endpoints_last_pod_leaving_is_told() -> None:
    pods = registry()
    emptied: list[tuple[str, str]] = []
    sink = EndpointPods(
        pods, on_emptied=lambda namespace, endpoint: emptied.append((namespace, endpoint))
    )
    await sink.replace(
        listed([pod_object("iris-0"), pod_object("iris-1"), pod_object("wine-0", "wine")])
    )
    assert emptied == []
    sink.apply("DELETED", pod_object("iris-0"))
    assert emptied == []
    sink.apply("MODIFIED", pod_object("iris-1", "wine"))
    assert emptied == [("team-a", "iris")]
    await sink.replace(listed([]))
    # A relist tells every endpoint it knew, in no particular order.
    assert emptied[0] == ("team-a", "iris")
    assert sorted(emptied[1:]) == [("team-a", "iris"), ("team-a", "wine")]
