"""The inference service: the endpoint's priority and deadline, tenancy, and every outcome counted.

The model server pods are a fake `send` (an in-process function, not the Kubernetes
API); the endpoint comes from the endpoint cache as a watch would fill it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from aijob_api.priority import Priority
from aijob_gateway.dispatch import DispatchPolicy, NoReadyPodError, Pod
from aijob_gateway.dispatch.registry import DispatcherRegistry
from aijob_gateway.errors import InvalidRequestError, NotFoundError
from aijob_gateway.kube.endpoint_cache import EndpointCache
from aijob_gateway.kube.endpoint_store import EndpointStore
from aijob_gateway.observability.metrics import GatewayMetrics
from aijob_gateway.security.keys import Tenant
from aijob_gateway.services.endpoints import EndpointService
from aijob_gateway.services.inference import InferenceService, deadline_after
from aijob_gateway.serving.transport import PodAnswer, PodRequest
from aijob_gateway.settings import GatewaySettings

TEAM_A = Tenant(key_id="key-a", namespace="team-a")
TEAM_B = Tenant(key_id="key-b", namespace="team-b")
OUTPUTS = {"modelName": "iris", "outputs": [{"prediction": "setosa"}], "timings": {"inferMs": 1}}
INVALID = {"detail": "has 2 values; the model was trained on 4", "field": "records[0]"}


def endpoint_manifest(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIEndpoint",
        "metadata": {"name": "iris", "namespace": "team-a", "uid": "u-1", "resourceVersion": "1"},
        "spec": {"model": {"source": {"trainingJob": "iris-forest"}}, **spec},
    }


class Pods:
    """Fake replicas: each answers its scripted replies in turn, or raises."""

    def __init__(self) -> None:
        self.script: dict[str, list[PodAnswer | Exception]] = {}
        self.timeouts: list[float] = []

    async def send(self, pod: Pod, request: PodRequest, timeout_s: float) -> PodAnswer:
        self.timeouts.append(timeout_s)
        reply = self.script[pod.name].pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def answer(status: int, body: dict[str, Any]) -> PodAnswer:
    return PodAnswer(status, json.dumps(body).encode(), {}, round_trip_s=0.001)


async def listed(objects: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for obj in objects:
        yield obj


async def service(
    pods: Pods, **spec: Any
) -> tuple[InferenceService, DispatcherRegistry[PodRequest, PodAnswer], GatewayMetrics]:
    cache = EndpointCache()
    await cache.replace(listed([endpoint_manifest(**spec)]))
    registry: DispatcherRegistry[PodRequest, PodAnswer] = DispatcherRegistry(
        pods.send, DispatchPolicy(max_attempts=3)
    )
    store = EndpointStore(cast(Any, None), cache)  # never called: no write in these tests
    metrics = GatewayMetrics()
    endpoints = EndpointService(cache, store, registry, GatewaySettings().tenant_store)
    return InferenceService(endpoints, metrics), registry, metrics


def add_replica(registry: DispatcherRegistry[PodRequest, PodAnswer], name: str) -> None:
    registry.pods("team-a", "iris").upsert(Pod(name, f"http://{name}:8080"), ready=True)


def count(metrics: GatewayMetrics, outcome: str) -> float:
    labels = {"namespace": "team-a", "endpoint": "iris", "route": "infer", "outcome": outcome}
    return metrics.registry.get_sample_value("aijob_gateway_inference_requests_total", labels) or 0


async def test_the_endpoints_priority_and_timeout_apply_when_the_request_names_none() -> None:
    pods = Pods()
    inference, registry, _ = await service(pods, priority="high", requestTimeoutSeconds=2)
    add_replica(registry, "iris-0")
    pods.script["iris-0"] = [answer(200, OUTPUTS)]
    predicted = await inference.infer(TEAM_A, "iris", [[5.1, 3.5, 1.4, 0.2]])
    assert predicted.outputs == [{"prediction": "setosa"}]
    assert 1.9 < pods.timeouts[0] <= 2.0
    dispatcher = registry.get("team-a", "iris")
    assert dispatcher is not None
    assert dispatcher.stats().latency_by_priority["high"].count == 1


@pytest.mark.parametrize(("asked", "longest"), [(100.0, 2.0), (0.5, 0.5)])
async def test_a_deadline_is_capped_by_the_endpoints_request_timeout(
    asked: float, longest: float
) -> None:
    pods = Pods()
    inference, registry, _ = await service(pods, requestTimeoutSeconds=2)
    add_replica(registry, "iris-0")
    pods.script["iris-0"] = [answer(200, OUTPUTS)]
    await inference.infer(
        TEAM_A, "iris", [[1]], priority=Priority.LOW, deadline=deadline_after(asked)
    )
    assert longest - 0.1 < pods.timeouts[0] <= longest


async def test_another_tenants_or_an_unknown_endpoint_is_not_found() -> None:
    inference, _, _ = await service(Pods())
    for tenant, name in ((TEAM_B, "iris"), (TEAM_A, "wine")):
        with pytest.raises(NotFoundError):
            await inference.infer(tenant, name, [[1]])


async def test_every_outcome_is_counted_with_the_retries() -> None:
    pods = Pods()
    inference, registry, metrics = await service(pods, concurrency=1)
    add_replica(registry, "iris-a")
    add_replica(registry, "iris-b")
    pods.script = {
        "iris-a": [ConnectionRefusedError("refused")],
        "iris-b": [answer(200, OUTPUTS), answer(422, INVALID)],
    }
    predicted = await inference.infer(TEAM_A, "iris", [[1]])
    assert (predicted.pod, predicted.retries) == ("iris-b", 1)
    with pytest.raises(InvalidRequestError) as refused:
        await inference.infer(TEAM_A, "iris", [[1, 2]])
    assert refused.value.field == "records[0]"
    registry.pods("team-a", "iris").sync({})
    with pytest.raises(NoReadyPodError):
        await inference.infer(TEAM_A, "iris", [[1]])
    assert (count(metrics, "ok"), count(metrics, "rejected"), count(metrics, "no-ready-pod")) == (
        1,
        1,
        1,
    )
    retries = metrics.registry.get_sample_value(
        "aijob_gateway_inference_retries_total", {"namespace": "team-a", "endpoint": "iris"}
    )
    assert retries == 1
    assert not inference.has_ready_replica(TEAM_A, "iris")


async def test_a_deleted_endpoints_dispatcher_is_dropped_once_its_pods_are_gone() -> None:
    registry: DispatcherRegistry[PodRequest, PodAnswer] = DispatcherRegistry(
        Pods().send, DispatchPolicy()
    )
    cache = EndpointCache()
    await cache.replace(listed([endpoint_manifest()]))
    endpoints = EndpointService(
        cache, EndpointStore(cast(Any, None), cache), registry, GatewaySettings().tenant_store
    )
    add_replica(registry, "iris-0")
    cache.remove("team-a", "iris")
    endpoints.forget_if_deleted("team-a", "iris")
    assert registry.get("team-a", "iris") is not None
    registry.pods("team-a", "iris").remove("iris-0")
    endpoints.forget_if_deleted("team-a", "iris")
    assert registry.get("team-a", "iris") is None
    add_replica(registry, "iris-0")
    await cache.replace(listed([endpoint_manifest()]))
    registry.pods("team-a", "iris").remove("iris-0")
    endpoints.forget_if_deleted("team-a", "iris")
    assert registry.get("team-a", "iris") is not None
