"""Asynchronous inference and the seeds' inference routes, over HTTP, end to end on the real API
server: the gateway (on loopback), the operator (in-process) that runs jobs on endpoints,
and the real model server (`aijob-worker serve`) as the endpoint's one ready replica.

The endpoint's own Deployment asks for more CPUs than any simulated node has, so its
KWOK pod is never scheduled; the replica is a Pod object pointing at the local server
(tests/support/model_server.py), which the gateway's dispatcher and the operator both
reach at its pod IP and port.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lightkube import Client
from lightkube.resources.batch_v1 import Job

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, TenantKey, start_gateway
from tests.support.model_server import (
    SETOSA,
    VERSICOLOR,
    VIRGINICA,
    LocalModelServer,
    ready_replica,
)

TASK_TYPE = "iris_classification"
ENDPOINT = {
    "name": "iris",
    "spec": {
        "model": {
            "source": {"uri": "file:///var/lib/aijob/artifacts/NAMESPACE/iris/model"},
            "type": "random_forest",
        },
        "framework": "sklearn",
        "resources": {"cpu": "1000"},  # more than any simulated node: no KWOK replica
        "batching": {"maxBatchSize": 2},
        "taskType": TASK_TYPE,
    },
}


@pytest.fixture
def server(model_server: LocalModelServer) -> Iterator[LocalModelServer]:
    """The session's model server, with no failure rule left by another test."""
    model_server.clear_faults()
    yield model_server
    model_server.clear_faults()


@pytest.fixture
def iris(
    api: httpx.Client,
    kube: Client,
    tenant: TenantKey,
    server: LocalModelServer,
    operator: Any,
) -> str:
    """The tenant's endpoint iris with one ready replica (the local server); the operator runs."""
    # The model in the tenant's own store: the operator serves nothing outside it.
    body = json.loads(json.dumps(ENDPOINT).replace("NAMESPACE", tenant.namespace))
    response = api.post("/v1/endpoints", json=body)
    assert response.status_code == 201, response.text
    ready_replica(kube, api, tenant.namespace, "iris-0", server.port)
    return "iris"


def job_phase(api: httpx.Client, name: str, phase: str) -> dict[str, Any]:
    """Wait until the job (`GET /v1/jobs/{name}`) is in `phase`; return it."""

    def reached() -> dict[str, Any]:
        job: dict[str, Any] = api.get(f"/v1/jobs/{name}").json()
        status = job.get("status") or {}
        assert status.get("phase") == phase, f"{status.get('phase')}: {status.get('message')}"
        return job

    return eventually(reached, timeout=Timeout.PROCESS, what=f"job {name} {phase}")


def test_async_inference_runs_on_the_warm_replica_and_outlives_the_gateway(
    cluster: ClusterInfo,
    gateway: RunningGateway,
    api: httpx.Client,
    kube: Client,
    tenant: TenantKey,
    other_tenant: TenantKey,
    iris: str,
) -> None:
    records = [SETOSA, VERSICOLOR, VIRGINICA]
    body = {"records": records, "clientRequestId": "batch-1"}
    restarted, other_gateway = start_gateway(cluster, gateway.namespace)
    url = f"{other_gateway.url}/v1/endpoints/iris/infer/async"

    def submitted() -> httpx.Response:
        response = httpx.post(url, json=body, headers=tenant.headers, timeout=30)
        assert response.status_code != 503, response.text  # its endpoint cache still syncing
        return response

    try:
        accepted = eventually(submitted, timeout=Timeout.API, what="the other gateway takes it")
    finally:
        restarted.stop()  # the gateway that took the request is gone: the job is not
    assert accepted.status_code == 202, accepted.text
    answer = accepted.json()
    job = answer["job"]
    assert (answer["endpoint"], answer["url"], answer["created"]) == (
        "iris",
        f"/v1/jobs/{job}",
        True,
    )
    assert accepted.headers["Location"] == f"/v1/jobs/{job}"

    done = job_phase(api, job, "Succeeded")

    assert done["spec"]["endpoint"] == "iris"
    results = done["status"]["results"]
    predictions = [output["prediction"] for output in results["outputs"]]
    assert predictions == ["setosa", "versicolor", "virginica"]
    assert set(results["timings"]) >= {"prepareMs", "inferMs", "postprocessMs"}
    assert done["status"]["podName"] == "iris-0"
    assert list(kube.list(Job, namespace=tenant.namespace)) == [], "no Job, no pod per request"
    replay = api.post("/v1/endpoints/iris/infer/async", json=body)
    assert replay.status_code == 202
    assert (replay.json()["job"], replay.json()["created"]) == (job, False)
    assert api.get(f"/v1/jobs/{job}/results").json()["results"]["outputs"] == results["outputs"]

    stranger = httpx.Client(base_url=gateway.url, headers=other_tenant.headers, timeout=30)
    with stranger:
        assert stranger.get(f"/v1/jobs/{job}").status_code == 404
        refused = stranger.post("/v1/endpoints/iris/infer/async", json={"records": records})
        assert refused.status_code == 404


def test_an_async_request_is_cancelled_as_a_job(
    api: httpx.Client, iris: str, server: LocalModelServer
) -> None:
    server.inject(mode="delay", count=1, delayMs=20_000)
    job = api.post("/v1/endpoints/iris/infer/async", json={"records": [SETOSA]}).json()["job"]
    job_phase(api, job, "Running")

    assert api.delete(f"/v1/jobs/{job}").status_code == 202

    cancelled = job_phase(api, job, "Cancelled")
    assert cancelled["status"].get("results") is None


def test_the_seed_coordinators_routes(
    gateway: RunningGateway, api: httpx.Client, other_tenant: TenantKey, iris: str
) -> None:
    request = {"request_id": "test-1", "task_type": TASK_TYPE, "data": SETOSA}
    answered = api.post("/infer", json=request)
    assert answered.status_code == 200, answered.text
    answer = answered.json()
    assert set(answer) == {
        "request_id",
        "worker_id",
        "result",
        "latency",
        "retry_count",
    }
    assert (answer["request_id"], answer["worker_id"], answer["retry_count"]) == (
        "test-1",
        "iris-0",
        0,
    )
    assert answer["result"]["prediction"] == "setosa"
    assert answer["result"]["task_type"] == TASK_TYPE
    assert answer["result"]["worker_id"] == "iris-0"
    assert 0 < answer["latency"] < 5
    urgent = api.post("/priority/infer", json={**request, "data": VIRGINICA})
    assert urgent.json()["result"]["prediction"] == "virginica"

    queued = api.post("/infer/async", json={**request, "request_id": "async-1"})
    assert queued.status_code == 200, queued.text
    assert queued.json()["status"] == "queued"

    def completed() -> dict[str, Any]:
        result: dict[str, Any] = api.get("/result/async-1").json()
        assert result["status"] == "completed", result
        return result

    result = eventually(completed, timeout=Timeout.PROCESS, what="the async result")
    assert (result["worker_id"], result["result"]["prediction"]) == ("iris-0", "setosa")
    assert result["result"]["task_type"] == TASK_TYPE

    def both_workers_seen() -> dict[str, Any]:
        # The Deployment's own (never scheduled) pod: the operator, the ReplicaSet
        # controller and the gateway's pod watch each take their turn before it is listed.
        seen: dict[str, Any] = api.get("/queue/stats").json()
        assert seen["total_workers"] == 2, seen["workers_detail"]
        return seen

    stats = eventually(
        both_workers_seen, timeout=Timeout.SCHEDULING, what="the Deployment's pod listed"
    )
    assert stats["healthy_workers"] == 1
    unscheduled = [name for name in stats["workers_detail"] if name != "iris-0"]
    assert [stats["workers_detail"][name]["status"] for name in unscheduled] == ["starting"]
    assert stats["stats"]["total_requests"] >= 2
    assert stats["workers_detail"]["iris-0"]["total_processed"] >= 2
    performance = api.get("/workers/performance").json()
    assert performance["iris-0"]["max_tasks"] == 16
    assert performance["iris-0"]["status"] in ("healthy", "busy")
    assert api.get("/status").json()["workers"]["iris-0"]["model_loaded"] is True
    unknown = api.post("/infer", json={**request, "task_type": "image_classification"})
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "task_type"

    with httpx.Client(base_url=gateway.url, headers=other_tenant.headers, timeout=30) as stranger:
        assert stranger.get("/result/async-1").status_code == 404
        assert stranger.post("/infer", json=request).status_code == 404
        assert stranger.get("/workers/performance").json() == {}


def test_the_seed_inference_servers_tasks_with_its_key_header(
    gateway: RunningGateway, tenant: TenantKey, other_tenant: TenantKey, iris: str
) -> None:
    headers = {"x-api-key": tenant.key}
    with httpx.Client(base_url=gateway.url, headers=headers, timeout=30) as seed:
        body = {
            "model": TASK_TYPE,
            "input": {"features": VERSICOLOR},
            "priority": "high",
            "client_request_id": "unique-123",
        }
        submitted = seed.post("/v1/tasks", json=body)
        assert submitted.status_code == 202, submitted.text
        task = submitted.json()
        assert task["status"] == "PENDING"
        again = seed.post("/v1/tasks", json=body)
        assert (again.status_code, again.json()["task_id"]) == (202, task["task_id"])
        many = seed.post("/v1/tasks", json={"model": "iris", "input": [SETOSA, VIRGINICA]})

        def succeeded(task_id: str) -> dict[str, Any]:
            view: dict[str, Any] = seed.get(f"/v1/tasks/{task_id}").json()
            assert view["status"] == "SUCCESS", view
            return view

        one = eventually(lambda: succeeded(task["task_id"]), timeout=Timeout.PROCESS, what="task")
        assert one["result"]["prediction"] == "versicolor"
        assert set(one["timing"]) == {"prepare_ms", "infer_ms", "upload_ms"}
        assert all(value is not None for value in one["timing"].values())
        both = eventually(
            lambda: succeeded(many.json()["task_id"]),
            timeout=Timeout.PROCESS,
            what="task",
        )
        assert [output["prediction"] for output in both["result"]] == [
            "setosa",
            "virginica",
        ]
        unknown = seed.post("/v1/tasks", json={**body, "model": "superres-x4"})
        assert (unknown.status_code, unknown.json()["field"]) == (404, "model")

    stranger = {"x-api-key": other_tenant.key}
    response = httpx.get(f"{gateway.url}/v1/tasks/{task['task_id']}", headers=stranger)
    assert response.status_code == 404
