"""The endpoint cache: the job cache's mechanism with the AIEndpoint model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aijob_gateway.kube.endpoint_cache import EndpointCache


def endpoint(name: str, namespace: str = "team-a", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIEndpoint",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "3"},
        "spec": {"model": {"source": {"trainingJob": "trained"}}, **spec},
    }


async def listed(objects: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for obj in objects:
        yield obj


async def test_endpoints_are_read_within_their_namespace_and_invalid_ones_left_out() -> None:
    invalid: list[int] = []
    cache = EndpointCache(on_invalid=lambda: invalid.append(1))
    broken = endpoint("broken", replicas=0)
    await cache.replace(listed([endpoint("iris"), endpoint("iris", "team-b"), broken]))
    found = cache.get("team-a", "iris")
    assert found is not None
    assert found.spec.concurrency == 16
    assert cache.get("team-a", "broken") is None
    assert invalid == [1]
    assert [e.metadata.namespace for e in cache.list("team-b")] == ["team-b"]
    cache.apply("MODIFIED", endpoint("iris", concurrency=4))
    modified = cache.get("team-a", "iris")
    assert modified is not None
    assert modified.spec.concurrency == 4
    cache.remove("team-a", "iris")
    assert cache.get("team-a", "iris") is None
    assert cache.size() == 1
