"""Key checks fail closed: when the gateway loses the API server (a real network cut between
them), keys are checked against the last copy for keys_stale_after_seconds only, then every
check answers 503 and /readyz says why; a key revoked meanwhile is refused once it sees the
Secret again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, mint_tenant_key, start_gateway
from tests.support.tcp_proxy import TcpProxy, proxied_kubeconfig

STALE_AFTER_SECONDS = 2.0


@pytest.fixture
def cut_off_gateway(
    cluster: ClusterInfo, kube: Client, aijob_crd: str, tmp_path: Path
) -> Iterator[tuple[RunningGateway, TcpProxy]]:
    """A gateway that reaches the API server through a proxy the test can cut."""
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    try:
        with proxied_kubeconfig(cluster.kubeconfig, tmp_path) as (kubeconfig, proxy):
            server, running = start_gateway(
                cluster,
                namespace,
                kubeconfig=str(kubeconfig),
                keys_stale_after_seconds=STALE_AFTER_SECONDS,
            )
            try:
                yield running, proxy
            finally:
                server.stop()
    finally:
        kube.delete(Namespace, namespace)


def test_keys_fail_closed_while_the_key_secret_cannot_be_watched(
    cut_off_gateway: tuple[RunningGateway, TcpProxy], namespace: str
) -> None:
    gateway, proxy = cut_off_gateway
    key = mint_tenant_key(gateway, namespace)
    jobs = f"{gateway.url}/v1/jobs"
    proxy.cut()

    def refused() -> httpx.Response:
        # The job cache says it is stale at once (503 from the route); the key check itself
        # holds out for the bound, then refuses before any route runs.
        response = httpx.get(jobs, headers=key.headers)
        assert response.status_code == 503, response.text
        assert "API keys cannot be checked" in response.json()["detail"]
        return response

    response = eventually(refused, timeout=Timeout.API, what="key checks to fail closed")
    assert "keys_stale_after_seconds" in response.json()["detail"]
    assert response.headers["retry-after"]
    # An unknown key cannot be told from a revoked one either: 503, not 401.
    unknown = httpx.get(jobs, headers={"Authorization": "Bearer aij_000000000000_" + "A" * 43})
    assert unknown.status_code == 503
    readiness = httpx.get(f"{gateway.url}/readyz")
    assert readiness.status_code == 503
    body = readiness.json()
    assert body["keysUsable"] is False
    assert body["keysSynced"] is False
    assert any("API key Secret" in reason for reason in body["reasons"]), body
    # Revoked while the gateway could not see it: refused as soon as it can.
    assert gateway.admin.revoke(key.key_id)
    proxy.restore()

    def revoked() -> bool:
        return httpx.get(jobs, headers=key.headers).status_code == 401

    eventually(revoked, timeout=Timeout.PROCESS, what="the revoked key refused after the cut")
    eventually(
        lambda: httpx.get(f"{gateway.url}/readyz").status_code == 200,
        timeout=Timeout.PROCESS,
        what="the gateway ready again",
    )
    fresh = mint_tenant_key(gateway, namespace)
    assert httpx.get(jobs, headers=fresh.headers).status_code == 200
