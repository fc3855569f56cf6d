"""/v1/endpoints against a real API server: create, get, list, delete, bad input, tenants."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aijob_api.constants import ANNOTATION_DESCRIPTION
from aijob_kube.resources import AIEndpointResource
from lightkube import Client

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, TenantKey

ENDPOINT: dict[str, Any] = {
    "name": "iris",
    "spec": {"model": {"source": {"trainingJob": "iris-forest"}}, "replicas": 2, "maxReplicas": 4},
}


def list_endpoints(kube: Client, namespace: str) -> list[dict[str, Any]]:
    return [dict(obj) for obj in kube.list(AIEndpointResource, namespace=namespace)]


def test_create_get_list_and_delete(api: httpx.Client, tenant: TenantKey, kube: Client) -> None:
    body = {**ENDPOINT, "description": "iris, warm", "labels": {"team": "tabular"}}
    created = api.post("/v1/endpoints", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/endpoints/iris"
    view = created.json()
    assert (view["name"], view["namespace"]) == ("iris", tenant.namespace)
    stored = dict(kube.get(AIEndpointResource, "iris", namespace=tenant.namespace))
    assert stored["spec"]["replicas"] == 2
    assert stored["spec"]["concurrency"] == view["spec"]["concurrency"] == 16
    assert stored["metadata"]["labels"] == {"team": "tabular"}
    assert stored["metadata"]["annotations"][ANNOTATION_DESCRIPTION] == "iris, warm"
    assert view["uid"] == stored["metadata"]["uid"]

    again = api.post("/v1/endpoints", json=body)
    assert again.status_code == 200
    assert again.json()["uid"] == view["uid"]
    changed = api.post("/v1/endpoints", json={**body, "spec": {**ENDPOINT["spec"], "replicas": 3}})
    assert changed.status_code == 409
    assert changed.json()["field"] == "name"

    fetched = api.get("/v1/endpoints/iris")
    assert fetched.status_code == 200
    assert fetched.json()["description"] == "iris, warm"
    listed = api.get("/v1/endpoints").json()
    assert [item["name"] for item in listed["items"]] == ["iris"]
    assert listed["total"] == 1

    deleted = api.delete("/v1/endpoints/iris")
    assert deleted.status_code == 202
    assert deleted.json()["name"] == "iris"
    assert api.get("/v1/endpoints/iris").status_code == 404
    eventually(
        lambda: list_endpoints(kube, tenant.namespace) == [],
        timeout=Timeout.API,
        what="the AIEndpoint deleted",
    )
    assert api.delete("/v1/endpoints/iris").status_code == 404


def test_an_endpoint_created_with_kubectl_shows_through_the_gateway(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    manifest = {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIEndpoint",
        "metadata": {"name": "wine", "namespace": tenant.namespace},
        "spec": {"model": {"source": {"uri": "file:///models/wine"}, "type": "svm"}},
    }
    kube.create(AIEndpointResource.from_dict(manifest))

    def shown() -> dict[str, Any]:
        response = api.get("/v1/endpoints/wine")
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        return document

    view = eventually(shown, timeout=Timeout.API, what="the endpoint in the gateway's cache")
    assert view["spec"]["model"]["type"] == "svm"
    kube.delete(AIEndpointResource, "wine", namespace=tenant.namespace)
    eventually(
        lambda: api.get("/v1/endpoints/wine").status_code == 404,
        timeout=Timeout.API,
        what="the deletion seen by the gateway",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ENDPOINT, "name": "Iris"}, "name"),
        ({**ENDPOINT, "name": "1-iris"}, "name"),
        ({"spec": ENDPOINT["spec"]}, "name"),
        ({**ENDPOINT, "spec": {**ENDPOINT["spec"], "replicas": 0}}, "spec.replicas"),
        ({**ENDPOINT, "spec": {**ENDPOINT["spec"], "priority": "urgent"}}, "spec.priority"),
        ({**ENDPOINT, "spec": {**ENDPOINT["spec"], "concurrency": 0}}, "spec.concurrency"),
        ({**ENDPOINT, "spec": {**ENDPOINT["spec"], "minReplicas": 5}}, "spec"),
        ({**ENDPOINT, "spec": {"model": {"source": {"uri": "file:///m"}}}}, "spec"),
        ({**ENDPOINT, "surprise": 1}, "surprise"),
    ],
)
def test_invalid_endpoints_name_the_field_and_create_nothing(
    api: httpx.Client, tenant: TenantKey, kube: Client, body: dict[str, Any], field: str
) -> None:
    response = api.post("/v1/endpoints", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["field"] == field, problem
    assert problem["detail"].startswith(field), problem
    assert list_endpoints(kube, tenant.namespace) == []


def test_another_tenants_endpoint_is_a_404_on_every_route(
    gateway: RunningGateway,
    api: httpx.Client,
    tenant: TenantKey,
    other_tenant: TenantKey,
    kube: Client,
) -> None:
    assert api.post("/v1/endpoints", json=ENDPOINT).status_code == 201
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/v1/endpoints/iris", None),
        ("DELETE", "/v1/endpoints/iris", None),
        ("POST", "/v1/endpoints/iris/infer", {"records": [[1, 2, 3, 4]]}),
        ("GET", "/v1/endpoints/iris/stats", None),
        ("GET", "/v1/endpoints/iris/v2/health/live", None),
        ("GET", "/v1/endpoints/iris/v2/health/ready", None),
        ("GET", "/v1/endpoints/iris/v2", None),
        ("GET", "/v1/endpoints/iris/v2/models/iris", None),
        ("GET", "/v1/endpoints/iris/v2/models/iris/ready", None),
        ("POST", "/v1/endpoints/iris/v2/models/iris/infer", {"inputs": []}),
    ]
    with httpx.Client(base_url=gateway.url, headers=other_tenant.headers) as theirs:
        for method, path, body in routes:
            response = theirs.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["type"] == "urn:aijob:problem:not-found"
        assert theirs.get("/v1/endpoints").json() == {"items": [], "total": 0}
        mine = theirs.get("/v1/endpoints/iris", params={"namespace": tenant.namespace})
        assert mine.status_code == 403
    assert api.get("/v1/endpoints/iris").status_code == 200
    assert [item["metadata"]["name"] for item in list_endpoints(kube, tenant.namespace)] == ["iris"]
