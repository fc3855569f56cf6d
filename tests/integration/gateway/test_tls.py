"""HTTPS: the gateway serves TLS from a certificate and key (as the chart mounts them from a
kubernetes.io/tls Secret); clients that trust the certificate get answers, others do not."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.cluster import ClusterInfo
from tests.support.gateway import RunningGateway, mint_tenant_key, start_gateway
from tests.support.tls import self_signed_pair

JOB = {"spec": {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}}}


@pytest.fixture
def https_gateway(
    cluster: ClusterInfo, kube: Client, aijob_crd: str, tmp_path: Path
) -> Iterator[RunningGateway]:
    """A gateway serving HTTPS with a fresh self-signed pair."""
    pair = self_signed_pair(tmp_path)
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    server, running = start_gateway(
        cluster,
        namespace,
        verify=ssl.create_default_context(cafile=pair.cert),
        tls_cert_file=str(pair.cert),
        tls_key_file=str(pair.key),
    )
    try:
        yield running
    finally:
        server.stop()
        kube.delete(Namespace, namespace)


def test_the_gateway_serves_https_to_clients_that_trust_its_certificate(
    https_gateway: RunningGateway, namespace: str
) -> None:
    assert https_gateway.url.startswith("https://127.0.0.1:")
    key = mint_tenant_key(https_gateway, namespace)
    with httpx.Client(
        base_url=https_gateway.url, headers=key.headers, verify=https_gateway.verify
    ) as api:
        created = api.post("/v1/jobs", json={**JOB, "name": "over-tls"})
        assert created.status_code == 201, created.text
        assert api.get("/v1/jobs/over-tls").json()["name"] == "over-tls"
        assert api.get("/readyz").status_code == 200


def test_untrusting_and_plain_http_clients_get_nothing(https_gateway: RunningGateway) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https_gateway.url}/healthz")
    plain = https_gateway.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{plain}/healthz")
