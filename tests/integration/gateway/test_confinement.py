"""The gateway refuses, 422 naming the field and before anything is created, a job whose URIs
leave its tenant's store, or an endpoint whose model does: the operator's own rule
(aijob_api.storage), applied at submission by a gateway told the operator's storage settings
(s3 here, as the chart installs it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aijob_kube.resources import AIEndpointResource
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.cluster import ClusterInfo
from tests.support.gateway import (
    RunningGateway,
    TenantKey,
    list_aijobs,
    mint_tenant_key,
    start_gateway,
)

TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {"type": "random_forest"},
    "dataset": {"name": "iris"},
}
INFERENCE: dict[str, Any] = {
    "task": "inference",
    "model": {"type": "random_forest", "source": {"trainingJob": "rf"}},
    "input": {"records": [[1, 2, 3, 4]]},
}


@pytest.fixture
def s3_gateway(cluster: ClusterInfo, kube: Client, aijob_crd: None) -> Iterator[RunningGateway]:
    """A gateway told the chart's default storage: a bucket `aijob-<namespace>` per tenant."""
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    server, running = start_gateway(cluster, namespace, storage_mode="s3")
    try:
        yield running
    finally:
        server.stop()
        kube.delete(Namespace, namespace)


def _post(gateway: RunningGateway, key: TenantKey, spec: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/jobs",
        json={"name": f"job-{uuid.uuid4().hex[:6]}", "spec": spec},
        headers=key.headers,
        timeout=30,
    )


def test_uris_outside_the_tenant_bucket_are_refused_naming_the_field(
    s3_gateway: RunningGateway, namespace: str, kube: Client
) -> None:
    key = mint_tenant_key(s3_gateway, namespace)
    other = "s3://aijob-another-team/jobs/rf/model"
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**TRAINING, "dataset": {"uri": "file:///etc/passwd"}}, "spec.dataset.uri", "s3://"),
        ({**TRAINING, "dataset": {"uri": f"{other}/x.csv"}}, "spec.dataset.uri", "outside"),
        (
            {**INFERENCE, "model": {"type": "random_forest", "source": {"uri": other}}},
            "spec.model.source.uri",
            "outside",
        ),
        (
            {**INFERENCE, "input": {"uri": f"s3://aijob-{namespace}/../aijob-x/in.csv"}},
            "spec.input.uri",
            "'..'",
        ),
        (
            {**TRAINING, "model": {"type": "rf", "hyperparameters": {"modelDir": other}}},
            "spec.model.hyperparameters.modelDir",
            "outside",
        ),
        (
            {
                "task": "training",
                "framework": "pytorch",
                "code": {"archiveUri": f"{other}/code.tar.gz", "module": "trainer.main"},
            },
            "spec.code.archiveUri",
            "outside",
        ),
    ]
    for spec, field, reason in cases:
        response = _post(s3_gateway, key, spec)
        assert response.status_code == 422, (field, response.text)
        problem = response.json()
        assert problem["field"] == field, problem
        assert problem["detail"].startswith(f"{field}: "), problem
        assert reason in problem["detail"], problem
    assert list_aijobs(kube, namespace) == []  # nothing was created


def test_an_endpoint_on_a_model_outside_the_tenant_bucket_is_refused(
    s3_gateway: RunningGateway, namespace: str, kube: Client
) -> None:
    key = mint_tenant_key(s3_gateway, namespace)
    field = "spec.model.source.uri"
    for uri, reason in [
        ("s3://aijob-another-team/jobs/rf/model", "outside"),
        ("file:///var/lib/aijob/artifacts/another-team/rf", "s3://"),
    ]:
        model = {"type": "random_forest", "source": {"uri": uri}}
        body = {"name": "stolen", "spec": {"model": model}}
        response = httpx.post(
            f"{s3_gateway.url}/v1/endpoints", json=body, headers=key.headers, timeout=30
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["field"] == field, problem
        assert problem["detail"].startswith(f"{field}: {uri!r}: "), problem
        assert reason in problem["detail"], problem
    assert list(kube.list(AIEndpointResource, namespace=namespace)) == []
    inside = {"uri": f"s3://aijob-{namespace}/jobs/rf/model"}
    body = {"name": "own", "spec": {"model": {"type": "random_forest", "source": inside}}}
    response = httpx.post(
        f"{s3_gateway.url}/v1/endpoints", json=body, headers=key.headers, timeout=30
    )
    assert response.status_code == 201, response.text


def test_uris_inside_the_tenant_bucket_are_accepted(
    s3_gateway: RunningGateway, namespace: str, kube: Client
) -> None:
    key = mint_tenant_key(s3_gateway, namespace)
    inside = f"s3://aijob-{namespace}/data/train.csv"
    response = _post(s3_gateway, key, {**TRAINING, "dataset": {"uri": inside}})
    assert response.status_code == 201, response.text
    assert [job["spec"]["dataset"]["uri"] for job in list_aijobs(kube, namespace)] == [inside]


def test_a_hostpath_gateway_confines_files_to_the_tenant_directory(
    gateway: RunningGateway, api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    response = api.post(
        "/v1/jobs", json={"spec": {**TRAINING, "dataset": {"uri": "file:///etc/passwd"}}}
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "spec.dataset.uri"
    assert f"/var/lib/aijob/artifacts/{tenant.namespace}/" in response.json()["detail"]
    assert list_aijobs(kube, tenant.namespace) == []


def test_a_data_set_in_no_format_the_workers_read_is_refused_naming_the_field(
    s3_gateway: RunningGateway, namespace: str, kube: Client
) -> None:
    key = mint_tenant_key(s3_gateway, namespace)
    unknown = f"s3://aijob-{namespace}/data/train.xlsx"
    response = _post(s3_gateway, key, {**TRAINING, "dataset": {"uri": unknown}})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "spec.dataset.uri", problem
    assert problem["detail"].startswith(f"spec.dataset.uri: {unknown!r}: not a data format")
    assert list_aijobs(kube, namespace) == []
    shards = f"s3://aijob-{namespace}/data/shards/"
    response = _post(s3_gateway, key, {**TRAINING, "dataset": {"uri": shards}})
    assert response.status_code == 201, response.text
    assert [job["spec"]["dataset"]["uri"] for job in list_aijobs(kube, namespace)] == [shards]
