"""Idempotent submission: same id and body -> same job, another body -> 409, never two jobs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from aijob_api.constants import ANNOTATION_CLIENT_REQUEST_ID
from lightkube import Client

from tests.support.gateway import RunningGateway, TenantKey, list_aijobs

BODY: dict[str, Any] = {
    "spec": {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}}
}


def test_same_request_twice_is_one_job(api: httpx.Client, tenant: TenantKey, kube: Client) -> None:
    first = api.post("/v1/jobs", json={**BODY, "clientRequestId": "nightly-2025-01-01"})
    second = api.post("/v1/jobs", json={**BODY, "clientRequestId": "nightly-2025-01-01"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["name"] == second.json()["name"]
    assert first.json()["uid"] == second.json()["uid"]
    jobs = list_aijobs(kube, tenant.namespace)
    assert len(jobs) == 1
    annotations = jobs[0]["metadata"]["annotations"]
    assert annotations[ANNOTATION_CLIENT_REQUEST_ID] == "nightly-2025-01-01"


def test_header_and_body_ids_are_the_same_key(api: httpx.Client) -> None:
    by_header = api.post("/v1/jobs", json=BODY, headers={"Idempotency-Key": "k-1"})
    by_other_header = api.post("/v1/jobs", json=BODY, headers={"X-Client-Request-ID": "k-1"})
    by_body = api.post("/v1/jobs", json={**BODY, "clientRequestId": "k-1"})
    assert [r.status_code for r in (by_header, by_other_header, by_body)] == [201, 200, 200]
    assert len({r.json()["name"] for r in (by_header, by_other_header, by_body)}) == 1
    clash = api.post(
        "/v1/jobs", json={**BODY, "clientRequestId": "k-2"}, headers={"Idempotency-Key": "k-1"}
    )
    assert clash.status_code == 422
    assert clash.json()["field"] == "clientRequestId"


def test_same_id_with_another_body_is_a_conflict(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    assert api.post("/v1/jobs", json={**BODY, "clientRequestId": "r-9"}).status_code == 201
    other = {"spec": {**BODY["spec"], "priority": "high"}, "clientRequestId": "r-9"}
    response = api.post("/v1/jobs", json=other)
    assert response.status_code == 409
    assert response.json()["field"] == "clientRequestId"
    assert "r-9" in response.json()["detail"]
    assert len(list_aijobs(kube, tenant.namespace)) == 1


def test_concurrent_duplicates_create_exactly_one_job(
    gateway: RunningGateway, tenant: TenantKey, kube: Client
) -> None:
    body = {**BODY, "clientRequestId": "burst-1"}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=gateway.url, headers=tenant.headers, timeout=30) as client:
            return client.post("/v1/jobs", json=body)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(post, range(16)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 15 + [201]
    assert len({r.json()["uid"] for r in responses}) == 1
    assert len(list_aijobs(kube, tenant.namespace)) == 1


def test_concurrent_duplicates_with_different_bodies_conflict(
    gateway: RunningGateway, tenant: TenantKey, kube: Client
) -> None:
    bodies: list[dict[str, Any]] = [
        {"spec": {**BODY["spec"], "priority": p}, "clientRequestId": "race-2"}
        for p in ("high", "low") * 6
    ]

    def post(body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=gateway.url, headers=tenant.headers, timeout=30) as client:
            return client.post("/v1/jobs", json=body)

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(post, bodies))
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1
    winner = created[0].json()["spec"]["priority"]
    for body, response in zip(bodies, responses, strict=True):
        expected = {201, 200} if body["spec"]["priority"] == winner else {409}
        assert response.status_code in expected
    assert len(list_aijobs(kube, tenant.namespace)) == 1


def test_without_an_id_each_post_is_a_new_job(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    names = {api.post("/v1/jobs", json=BODY).json()["name"] for _ in range(3)}
    assert len(names) == 3
    assert len(list_aijobs(kube, tenant.namespace)) == 3
