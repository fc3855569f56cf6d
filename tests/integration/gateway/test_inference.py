"""Synchronous inference through the gateway, to a real model server, on the real API server.

The endpoint's replicas are Pod objects whose status the test writes (Running, Ready,
podIP 127.0.0.1, the container port named http = the local server's port); see
tests/support/model_server.py for why. The gateway discovers them with its pod watch
and sends real HTTP to the real `aijob-worker serve` process.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Pod
from prometheus_client.parser import text_string_to_metric_families

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, TenantKey, start_gateway
from tests.support.model_server import (
    SETOSA,
    VERSICOLOR,
    VIRGINICA,
    LocalModelServer,
    create_replica,
    free_port,
    ready_replica,
    set_replica_ready,
    sklearn_command,
)

ENDPOINT = {
    "name": "iris",
    "spec": {
        "model": {"source": {"trainingJob": "iris-forest"}},
        "concurrency": 4,
        "requestTimeoutSeconds": 20,
    },
}


@pytest.fixture
def server(model_server: LocalModelServer) -> LocalModelServer:
    """The session's model server, with no failure rule left by another test."""
    model_server.clear_faults()
    return model_server


@pytest.fixture
def endpoint(api: httpx.Client) -> str:
    """The endpoint `iris` of the test's tenant (no replica yet)."""
    response = api.post("/v1/endpoints", json=ENDPOINT)
    assert response.status_code == 201, response.text
    return "iris"


def infer(api: httpx.Client, records: list[Any], **extra: Any) -> httpx.Response:
    return api.post("/v1/endpoints/iris/infer", json={"records": records, **extra})


def test_infer_answers_the_model_servers_outputs_with_timings_and_the_pod(
    api: httpx.Client, tenant: TenantKey, kube: Client, endpoint: str, server: LocalModelServer
) -> None:
    ready_replica(kube, api, tenant.namespace, "iris-0", server.port)
    records = [SETOSA, {"features": VIRGINICA}, VERSICOLOR]
    response = infer(api, records, priority="high", timeoutSeconds=5)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["outputs"] == server.predict(records)["outputs"]
    assert [output["prediction"] for output in answer["outputs"]] == [
        "setosa",
        "virginica",
        "versicolor",
    ]
    assert (answer["pod"], answer["attempts"], answer["retries"]) == ("iris-0", 1, 0)
    assert (answer["endpoint"], answer["modelName"]) == ("iris", "iris")
    assert len(answer["modelChecksum"]) == 64
    timings = answer["timings"]
    assert {"queueMs", "prepareMs", "inferMs", "postprocessMs", "batchSize"} <= set(timings)
    assert {"dispatchMs", "roundTripMs", "totalMs"} <= set(timings)
    assert timings["totalMs"] >= timings["roundTripMs"] >= timings["inferMs"]

    stats = api.get("/v1/endpoints/iris/stats").json()
    assert (stats["received"], stats["answered"], stats["failed"]) == (1, 1, 0)
    assert stats["latencyByPriority"]["high"]["count"] == 1
    assert stats["pods"][0]["served"] == 1
    assert stats["readyPods"] == 1
    where = {"namespace": tenant.namespace, "endpoint": "iris"}
    samples = scrape(api)
    assert samples[("aijob_gateway_inference_requests_total", route_ok(where))] == 1
    assert samples[("aijob_gateway_endpoint_ready_pods", frozenset(where.items()))] == 1


def route_ok(where: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset({**where, "route": "infer", "outcome": "ok"}.items())


def scrape(api: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The gateway's metrics: (sample name, its labels) to value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(api.get("/metrics").text)
        for sample in family.samples
    }


def test_unknown_endpoint_is_a_404(api: httpx.Client) -> None:
    response = infer(api, [SETOSA])
    assert response.status_code == 404
    assert response.json()["field"] == "name"


def test_no_ready_replica_is_a_503_until_one_is_ready(
    api: httpx.Client, tenant: TenantKey, kube: Client, endpoint: str, server: LocalModelServer
) -> None:
    empty = infer(api, [SETOSA])
    assert empty.status_code == 503
    assert empty.headers["retry-after"]
    assert empty.json()["type"] == "urn:aijob:problem:no-ready-pod"
    assert "no pod" in empty.json()["detail"]

    create_replica(kube, tenant.namespace, "iris", "iris-0", server.port, ready=False)
    eventually(
        lambda: "1 not ready" in infer(api, [SETOSA]).json()["detail"],
        timeout=Timeout.API,
        what="the unready replica seen",
    )
    set_replica_ready(kube, tenant.namespace, "iris-0", ready=True)
    eventually(
        lambda: infer(api, [SETOSA]).status_code == 200,
        timeout=Timeout.API,
        what="the replica ready in the gateway",
    )
    kube.delete(Pod, "iris-0", namespace=tenant.namespace)
    eventually(
        lambda: infer(api, [SETOSA]).status_code == 503,
        timeout=Timeout.API,
        what="the deleted replica gone from the gateway",
    )


def test_a_bad_record_is_a_422_naming_it_and_is_not_retried(
    api: httpx.Client, tenant: TenantKey, kube: Client, endpoint: str, server: LocalModelServer
) -> None:
    ready_replica(kube, api, tenant.namespace, "iris-0", server.port)
    ready_replica(kube, api, tenant.namespace, "iris-1", server.port)
    response = infer(api, [SETOSA, [5.1, 3.5]])
    assert response.status_code == 422
    problem = response.json()
    assert problem["field"] == "records[1]"
    assert problem["detail"].startswith("records[1]: ")
    assert "4" in problem["detail"]
    stats = api.get("/v1/endpoints/iris/stats").json()
    assert (stats["received"], stats["rejected"], stats["retries"]) == (1, 1, 0)
    assert sum(pod["served"] for pod in stats["pods"]) == 1
    assert infer(api, [SETOSA]).status_code == 200

    invalid = infer(api, [], priority="urgent")
    assert invalid.status_code == 422
    assert {error["field"] for error in invalid.json()["errors"]} == {"records", "priority"}


def test_a_replica_that_does_not_answer_is_retried_on_another(
    api: httpx.Client, tenant: TenantKey, kube: Client, endpoint: str, server: LocalModelServer
) -> None:
    ready_replica(kube, api, tenant.namespace, "iris-a-dead", free_port())
    ready_replica(kube, api, tenant.namespace, "iris-b", server.port)
    answers = [infer(api, [SETOSA]) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert {answer.json()["pod"] for answer in answers} == {"iris-b"}
    assert sum(answer.json()["retries"] for answer in answers) >= 1
    stats = api.get("/v1/endpoints/iris/stats").json()
    dead = next(pod for pod in stats["pods"] if pod["name"] == "iris-a-dead")
    assert dead["faults"] >= 1
    assert stats["retries"] == sum(answer.json()["retries"] for answer in answers)


def test_a_request_on_a_deleted_replica_fails_over_to_another(
    api: httpx.Client, tenant: TenantKey, kube: Client, endpoint: str, server: LocalModelServer
) -> None:
    ready_replica(kube, api, tenant.namespace, "iris-0", server.port)
    ready_replica(kube, api, tenant.namespace, "iris-1", server.port)
    server.inject(mode="delay", count=1, delayMs=10_000)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(infer, api, [VIRGINICA])

        def holding() -> str:
            pods = api.get("/v1/endpoints/iris/stats").json()["pods"]
            busy = [pod["name"] for pod in pods if pod["outstanding"]]
            assert busy, pods
            return str(busy[0])

        held_by = eventually(holding, timeout=Timeout.API, what="the request held by a replica")
        kube.delete(Pod, held_by, namespace=tenant.namespace)
        response = pending.result(timeout=Timeout.API)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["pod"] != held_by
    assert answer["retries"] == 1
    assert answer["outputs"][0]["prediction"] == "virginica"


def test_the_open_inference_protocol_through_the_gateway(
    gateway: RunningGateway,
    api: httpx.Client,
    tenant: TenantKey,
    kube: Client,
    endpoint: str,
    server: LocalModelServer,
) -> None:
    assert api.get("/v1/endpoints/iris/v2/health/ready").status_code == 503
    ready_replica(kube, api, tenant.namespace, "iris-0", server.port)
    tensor = {"name": "features", "datatype": "FP64", "shape": [1, 4], "data": [SETOSA]}
    response = api.post("/v1/endpoints/iris/v2/models/iris/infer", json={"inputs": [tensor]})
    assert response.status_code == 200, response.text
    assert response.headers["x-aijob-pod"] == "iris-0"
    outputs = {output["name"]: output for output in response.json()["outputs"]}
    assert outputs["prediction"]["data"] == ["setosa"]

    wrong = {**tensor, "shape": [1, 2], "data": [5.1, 3.5]}
    refused = api.post("/v1/endpoints/iris/v2/models/iris/infer", json={"inputs": [wrong]})
    assert refused.status_code == 422
    assert refused.json()["error"]

    unknown = api.get("/v1/endpoints/nothing/v2/models/nothing")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == unknown.json()["detail"]

    host = gateway.url.removeprefix("http://")
    script = f"""
import json, numpy as np, tritonclient.http as triton
client = triton.InferenceServerClient(url="{host}/v1/endpoints/iris")
headers = {{"Authorization": "Bearer {tenant.key}"}}
features = triton.InferInput("features", [2, 4], "FP32")
features.set_data_from_numpy(np.array([{SETOSA}, {VIRGINICA}], dtype=np.float32))
result = client.infer("iris", [features], headers=headers)
print(json.dumps({{
    "live": client.is_server_live(headers=headers),
    "ready": client.is_model_ready("iris", headers=headers),
    "inputs": client.get_model_metadata("iris", headers=headers)["inputs"],
    "predictions": [bytes(p).decode() for p in result.as_numpy("prediction")],
}}))
"""
    completed = subprocess.run(
        sklearn_command("python", "-c", script),
        capture_output=True,
        text=True,
        timeout=Timeout.PROCESS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.strip().splitlines()[-1])
    assert seen["live"] is True
    assert seen["ready"] is True
    assert seen["inputs"][0]["name"] == "features"
    assert seen["predictions"] == ["setosa", "virginica"]


def test_a_body_over_the_limit_is_a_413_before_it_is_parsed(
    cluster: ClusterInfo, gateway: RunningGateway, tenant: TenantKey, endpoint: str
) -> None:
    server, small = start_gateway(cluster, gateway.namespace, inference_max_body_bytes=2048)
    try:
        headers = tenant.headers
        not_json = b"{" * 4096
        for path in ("/v1/endpoints/iris/infer", "/v1/endpoints/iris/v2/models/iris/infer"):
            declared = httpx.post(f"{small.url}{path}", content=not_json, headers=headers)
            assert declared.status_code == 413, declared.text
            assert declared.json()["type"] == "urn:aijob:problem:too-large"
            chunked = httpx.post(
                f"{small.url}{path}", content=iter([not_json[:1024]] * 4), headers=headers
            )
            assert chunked.status_code == 413, chunked.text
        parsed = httpx.post(f"{small.url}/v1/endpoints/iris/infer", content=b"{", headers=headers)
        assert parsed.status_code == 422
        jobs = httpx.post(f"{small.url}/v1/jobs", content=not_json, headers=headers)
        assert jobs.status_code == 422
    finally:
        server.stop()
