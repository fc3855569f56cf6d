"""The per-key rate limit: 429 with Retry-After, per key, on a gateway with a small budget."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.cluster import ClusterInfo
from tests.support.gateway import RunningGateway, mint_tenant_key, start_gateway


@pytest.fixture
def strict_gateway(cluster: ClusterInfo, kube: Client, aijob_crd: None) -> Iterator[RunningGateway]:
    """A gateway allowing a burst of 5 requests and 0.2 per second after that."""
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    server, running = start_gateway(
        cluster, namespace, rate_limit_per_second=0.2, rate_limit_burst=5
    )
    try:
        yield running
    finally:
        server.stop()
        kube.delete(Namespace, namespace)


def test_limit_per_key_with_retry_after(strict_gateway: RunningGateway, namespace: str) -> None:
    # Minting waits for one accepted request: that one is part of the burst.
    limited = mint_tenant_key(strict_gateway, namespace)
    fresh = mint_tenant_key(strict_gateway, namespace)
    url = f"{strict_gateway.url}/v1/jobs"
    statuses = [httpx.get(url, headers=limited.headers).status_code for _ in range(6)]
    assert statuses[:4] == [200] * 4
    assert statuses[4:] == [429, 429]
    response = httpx.get(url, headers=limited.headers)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= 5
    assert limited.key_id in response.json()["detail"]
    # Another key has its own bucket; health routes are never limited.
    assert httpx.get(url, headers=fresh.headers).status_code == 200
    assert httpx.get(f"{strict_gateway.url}/healthz").status_code == 200


def test_refused_keys_do_not_spend_a_valid_keys_budget(
    strict_gateway: RunningGateway, namespace: str
) -> None:
    key = mint_tenant_key(strict_gateway, namespace)
    url = f"{strict_gateway.url}/v1/jobs"
    for _ in range(10):
        assert httpx.get(url, headers={"X-API-Key": "wrong"}).status_code == 401
    statuses = [httpx.get(url, headers=key.headers).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_inference_routes_have_their_own_budget(
    strict_gateway: RunningGateway, namespace: str
) -> None:
    key = mint_tenant_key(strict_gateway, namespace)
    jobs = f"{strict_gateway.url}/v1/jobs"
    statuses = [httpx.get(jobs, headers=key.headers).status_code for _ in range(6)]
    assert statuses[-1] == 429
    # The job routes' budget is spent; inference (many small requests) is not limited by it:
    # an unknown endpoint answers 404, not 429.
    infer = f"{strict_gateway.url}/v1/endpoints/absent/infer"
    inference_statuses = {
        httpx.post(infer, headers=key.headers, json={"records": [[1.0]]}).status_code
        for _ in range(10)
    }
    assert inference_statuses == {404}


@pytest.fixture
def address_limited_gateway(
    cluster: ClusterInfo, kube: Client, aijob_crd: None
) -> Iterator[RunningGateway]:
    """A gateway allowing each client address a burst of 5 requests and 0.2 per second."""
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    server, running = start_gateway(
        cluster, namespace, client_rate_limit_per_second=0.2, client_rate_limit_burst=5
    )
    try:
        yield running
    finally:
        server.stop()
        kube.delete(Namespace, namespace)


def test_limit_per_client_address_before_authentication(
    address_limited_gateway: RunningGateway, namespace: str
) -> None:
    url = f"{address_limited_gateway.url}/v1/jobs"
    # Starting the gateway polled /readyz, which is never limited; the burst is whole.
    statuses = [httpx.get(url).status_code for _ in range(5)]
    assert statuses == [401] * 5
    anonymous = httpx.get(url)
    assert anonymous.status_code == 429
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert 1 <= int(anonymous.headers["retry-after"]) <= 5
    assert "per client address" in anonymous.json()["detail"]
    assert "127.0.0.1" in anonymous.json()["detail"]
    # A valid key from the same address is refused too: the address's limit comes first.
    minted = address_limited_gateway.admin.create(namespace, "integration test")
    keyed = httpx.get(url, headers={"Authorization": f"Bearer {minted.key}"})
    assert keyed.status_code == 429
    # Probes and metrics are never limited.
    for path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(f"{address_limited_gateway.url}{path}").status_code == 200
    # A client behind a trusted proxy (loopback, by default) is counted by the address the
    # proxy names in X-Forwarded-For.
    forwarded = httpx.get(url, headers={"X-Forwarded-For": "198.51.100.7"})
    assert forwarded.status_code == 401
