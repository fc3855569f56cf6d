"""Seed 003's flow on the real object store: a task (`POST /v1/tasks`) runs on the tenant's warm
replica (the real model server), the operator (in-process, s3 mode) writes its result to the
tenant's bucket in the local MinIO with the tenant's own credentials, and `GET /v1/tasks/{id}`
answers the seed's `result.s3_key` (plus the inline result), whose object the gateway's
artifact route serves with the recorded checksum; another tenant reads none of it."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, mint_tenant_key, start_gateway
from tests.support.model_server import VERSICOLOR, VIRGINICA, LocalModelServer, ready_replica
from tests.support.storage import add_tenant, minio_settings, remove_tenant, tenant_client

TASK_TYPE = "iris_classification"


@pytest.fixture
def s3_tenant(kube: Client, namespace: str) -> Iterator[str]:
    """The test's namespace as a tenant with its own bucket, user and Secret."""
    tenant = add_tenant(kube, namespace)
    try:
        yield tenant.bucket
    finally:
        remove_tenant(kube, namespace)


@pytest.fixture
def s3_mode(operator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, s3_tenant: str) -> None:
    """The in-process operator in s3 mode on the local MinIO (as the chart's local values)."""
    settings = minio_settings()
    monkeypatch.setenv("AIJOB_OPERATOR_STORAGE_MODE", "s3")
    monkeypatch.setenv("AIJOB_OPERATOR_S3_ENDPOINT", settings["AIJOB_S3_ENDPOINT"])
    monkeypatch.setenv("AIJOB_OPERATOR_S3_REGION", settings["AIJOB_S3_REGION"])


@pytest.fixture
def s3_gateway(cluster: ClusterInfo, kube: Client, aijob_crd: str) -> Iterator[RunningGateway]:
    """A gateway told the same storage settings."""
    settings = minio_settings()
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    server, running = start_gateway(
        cluster,
        namespace,
        storage_mode="s3",
        s3_endpoint=settings["AIJOB_S3_ENDPOINT"],
        s3_region=settings["AIJOB_S3_REGION"],
    )
    try:
        yield running
    finally:
        server.stop()
        kube.delete(Namespace, namespace)


@pytest.mark.usefixtures("s3_mode", "operator")
def test_a_seed_task_result_lands_in_the_tenants_bucket_and_is_read_back(
    s3_gateway: RunningGateway,
    s3_tenant: str,
    namespace: str,
    kube: Client,
    model_server: LocalModelServer,
) -> None:
    model_server.clear_faults()
    key = mint_tenant_key(s3_gateway, namespace)
    stranger_namespace = f"t-{uuid.uuid4().hex[:10]}"
    kube.create(
        Namespace(metadata=ObjectMeta(name=stranger_namespace, labels={"aijob.dev/test": "true"}))
    )
    try:
        stranger = mint_tenant_key(s3_gateway, stranger_namespace)
        with httpx.Client(base_url=s3_gateway.url, headers=key.headers, timeout=30) as api:
            endpoint = {
                "name": "iris",
                "spec": {
                    "model": {
                        "source": {"uri": f"s3://{s3_tenant}/jobs/iris/model"},
                        "type": "random_forest",
                    },
                    "framework": "sklearn",
                    "resources": {"cpu": "1000"},  # no simulated node fits: no KWOK replica
                    "taskType": TASK_TYPE,
                },
            }
            created = api.post("/v1/endpoints", json=endpoint)
            assert created.status_code == 201, created.text
            ready_replica(kube, api, namespace, "iris-0", model_server.port)
            seed = {"x-api-key": key.key}
            tasks = {
                "one": {"model": TASK_TYPE, "input": {"features": VERSICOLOR}},
                "many": {"model": "iris", "input": [VERSICOLOR, VIRGINICA]},
            }
            ids = {}
            for name, body in tasks.items():
                submitted = httpx.post(f"{s3_gateway.url}/v1/tasks", json=body, headers=seed)
                assert submitted.status_code == 202, submitted.text
                ids[name] = submitted.json()["task_id"]

            def succeeded(task_id: str) -> dict[str, Any]:
                view: dict[str, Any] = httpx.get(
                    f"{s3_gateway.url}/v1/tasks/{task_id}", headers=seed
                ).json()
                assert view["status"] == "SUCCESS", view
                return view

            for name, task_id in ids.items():
                view = eventually(partial(succeeded, task_id), timeout=Timeout.PROCESS, what=name)
                result = view["result"]
                assert result["s3_key"] == f"jobs/{task_id}/results/{task_id}.json"
                assert result["bucket"] == s3_tenant
                predictions = ["versicolor"] if name == "one" else ["versicolor", "virginica"]
                inline = result["output"]
                outputs = [inline] if name == "one" else inline
                assert [output["prediction"] for output in outputs] == predictions

                # In the tenant's bucket, read with the tenant's own credentials.
                stored = tenant_client(kube, namespace).get_object(s3_tenant, result["s3_key"])
                data = stored.read()
                document = json.loads(data)
                assert document["task_id"] == task_id
                assert [o["prediction"] for o in document["outputs"]] == predictions
                assert hashlib.sha256(data).hexdigest() == result["sha256"]

                # Read back through the gateway's artifact route, with the recorded checksum.
                served = api.get(result["url"])
                assert served.status_code == 200, served.text
                assert served.content == data
                assert served.headers["x-checksum-sha256"] == result["sha256"]
                listing = api.get(f"/v1/jobs/{task_id}/artifacts").json()
                assert [item["path"] for item in listing["items"]] == [f"results/{task_id}.json"]

                # Another tenant: no task, no artifacts.
                other = {"x-api-key": stranger.key}
                assert (
                    httpx.get(f"{s3_gateway.url}/v1/tasks/{task_id}", headers=other).status_code
                    == 404
                )
                assert (
                    httpx.get(f"{s3_gateway.url}{result['url']}", headers=other).status_code == 404
                )
    finally:
        kube.delete(Namespace, stranger_namespace)
