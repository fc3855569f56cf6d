"""The auth matrix: no key, wrong key, another tenant's job, both header styles, revocation."""

from __future__ import annotations

import httpx
import pytest

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, TenantKey

JOB = {"spec": {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}}}
PROTECTED = [
    ("GET", "/v1/jobs"),
    ("POST", "/v1/jobs"),
    ("GET", "/v1/jobs/x"),
    ("DELETE", "/v1/jobs/x"),
    ("GET", "/v1/jobs/x/results"),
    ("GET", "/v1/jobs/x/artifacts"),
    ("GET", "/v1/jobs/x/artifacts/model/model.joblib"),
    ("GET", "/v1/queue/stats"),
    ("GET", "/v1/nodes"),
    ("GET", "/v1/endpoints"),
    ("POST", "/v1/endpoints"),
    ("GET", "/v1/endpoints/x"),
    ("DELETE", "/v1/endpoints/x"),
    ("POST", "/v1/endpoints/x/infer"),
    ("GET", "/v1/endpoints/x/stats"),
    ("GET", "/v1/endpoints/x/v2/health/ready"),
    ("POST", "/v1/endpoints/x/v2/models/x/infer"),
    ("POST", "/jobs/training"),
    ("POST", "/jobs/inference"),
    ("GET", "/jobs/x/status"),
    ("GET", "/jobs"),
    ("DELETE", "/jobs/x"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param({"Authorization": "Bearer aij_000000000000_" + "A" * 43}, id="unknown"),
        pytest.param({"X-API-Key": "not-a-key"}, id="malformed"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="basic"),
    ],
)
def test_every_route_needs_a_valid_key(
    gateway: RunningGateway, method: str, path: str, headers: dict[str, str]
) -> None:
    response = httpx.request(method, f"{gateway.url}{path}", headers=headers, json=JOB)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/health", "/openapi.json"])
def test_health_and_metrics_need_no_key(gateway: RunningGateway, path: str) -> None:
    assert httpx.get(f"{gateway.url}{path}").status_code == 200


def test_both_header_styles(gateway: RunningGateway, tenant: TenantKey) -> None:
    for headers in ({"Authorization": f"Bearer {tenant.key}"}, {"X-API-Key": tenant.key}):
        assert httpx.get(f"{gateway.url}/v1/jobs", headers=headers).status_code == 200


def test_another_tenants_job(
    gateway: RunningGateway, tenant: TenantKey, other_tenant: TenantKey
) -> None:
    url = gateway.url
    created = httpx.post(
        f"{url}/v1/jobs", json={**JOB, "name": "secret-job"}, headers=tenant.headers
    )
    assert created.status_code == 201
    theirs = {"namespace": tenant.namespace}
    for method, path in [
        ("GET", "/v1/jobs/secret-job"),
        ("DELETE", "/v1/jobs/secret-job"),
        ("GET", "/v1/jobs/secret-job/results"),
        ("GET", "/v1/jobs/secret-job/artifacts"),
        ("GET", "/v1/jobs/secret-job/artifacts/model/model.joblib"),
        ("GET", "/v1/jobs"),
    ]:
        response = httpx.request(
            method, f"{url}{path}", params=theirs, headers=other_tenant.headers
        )
        assert response.status_code == 403, (method, path)
        assert response.json()["field"] == "namespace"
    # Addressed by bare name, a job is looked up in the caller's own namespace: not found there.
    bare = httpx.get(f"{url}/v1/jobs/secret-job", headers=other_tenant.headers)
    assert bare.status_code == 404
    assert (
        httpx.get(f"{url}/jobs/secret-job/status", headers=other_tenant.headers).status_code == 404
    )
    listing = httpx.get(f"{url}/v1/jobs", headers=other_tenant.headers).json()
    assert listing["items"] == []
    # The owner still sees it, also with its own namespace spelled out.
    own = httpx.get(f"{url}/v1/jobs/secret-job", params=theirs, headers=tenant.headers)
    assert own.status_code == 200


def test_same_name_in_two_tenants_never_crosses(
    gateway: RunningGateway, tenant: TenantKey, other_tenant: TenantKey
) -> None:
    url = gateway.url
    for key, model in ((tenant, "svm"), (other_tenant, "random_forest")):
        body = {"name": "twin", "spec": {**JOB["spec"], "model": {"type": model}}}
        assert httpx.post(f"{url}/v1/jobs", json=body, headers=key.headers).status_code == 201
    for key, model in ((tenant, "svm"), (other_tenant, "random_forest")):
        job = httpx.get(f"{url}/v1/jobs/twin", headers=key.headers).json()
        assert job["namespace"] == key.namespace
        assert job["spec"]["model"]["type"] == model
        stats = httpx.get(f"{url}/v1/queue/stats", headers=key.headers).json()
        assert stats["total"] == 1


def test_a_revoked_key_stops_working(gateway: RunningGateway, tenant: TenantKey) -> None:
    assert gateway.admin.revoke(tenant.key_id)
    eventually(
        lambda: httpx.get(f"{gateway.url}/v1/jobs", headers=tenant.headers).status_code == 401,
        timeout=Timeout.API,
    )
