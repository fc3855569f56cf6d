"""The model server on a loopback port, serving a softmax model trained here, called over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from aijob_worker.offline import run_offline
from aijob_worker.runners import RunnerRegistry
from aijob_worker.serve.config import ServeConfig
from aijob_worker.serve.testing import ThreadedServer, metric, parse_metrics, wait_until
from tests.softmax_runner import SoftmaxRunner

SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.7, 3.0, 5.2, 2.3]
TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {
        "type": "softmax",
        "hyperparameters": {"epochs": 8, "learningRate": 1.0, "batchSize": 16, "seed": 1},
    },
    "dataset": {"name": "iris"},
}


@pytest.fixture(scope="module")
def model_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    code, status = run_offline(
        TRAINING, tmp_path_factory.mktemp("train"), registry=RunnerRegistry([SoftmaxRunner])
    )
    assert code == 0
    uri: str = status["results"]["modelUri"]
    return uri


def config(model_uri: str, **settings: Any) -> ServeConfig:
    return ServeConfig(name="iris", model_uri=model_uri, **settings)


@pytest.fixture(scope="module")
def server(model_uri: str) -> Iterator[ThreadedServer]:
    settings = config(model_uri, max_batch_wait_ms=20, max_request_bytes=4096)
    with ThreadedServer(
        settings,
        registry=RunnerRegistry([SoftmaxRunner]),
        env={"AIJOB_SERVE_FAULT_INJECTION": "1"},
    ) as running:
        yield running


def predict(server: ThreadedServer, records: list[Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/v1/models/iris/predict",
        json={"records": records},
        headers=headers,
        timeout=30,
    )


def test_health_and_metadata(server: ThreadedServer) -> None:
    base = server.base_url
    assert httpx.get(f"{base}/v2/health/live").json() == {"live": True}
    assert httpx.get(f"{base}/v2/health/ready").status_code == 200
    assert httpx.get(f"{base}/v2/models/iris/ready").status_code == 200
    assert httpx.get(f"{base}/v2").json()["extensions"] == [
        "binary_tensor_data",
        "aijob_json_predict",
    ]
    metadata = httpx.get(f"{base}/v2/models/iris").json()
    assert metadata["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 4]}]
    assert [output["name"] for output in metadata["outputs"]] == [
        "prediction",
        "confidence",
        "probabilities",
    ]
    assert metadata["parameters"]["modelType"] == "softmax"
    assert len(metadata["parameters"]["modelChecksum"]) == 64


def test_v2_infer_answers_tensors_and_timings(server: ThreadedServer) -> None:
    response = httpx.post(
        f"{server.base_url}/v2/models/iris/infer",
        json={
            "id": "r1",
            "inputs": [
                {
                    "name": "features",
                    "datatype": "FP32",
                    "shape": [2, 4],
                    "data": SETOSA + VIRGINICA,
                }
            ],
        },
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["model_name"], answer["id"]) == ("iris", "r1")
    assert answer["outputs"][0]["data"] == ["setosa", "virginica"]
    assert answer["outputs"][2]["shape"] == [2, 3]
    assert set(answer["parameters"]) == {
        "queueMs", "prepareMs", "inferMs", "postprocessMs", "batchSize", "batchRequests",
    }  # fmt: skip


def test_the_json_route_takes_records_as_inference_jobs_do(server: ThreadedServer) -> None:
    records = [SETOSA, {"features": VIRGINICA}]
    answer = predict(server, records).json()
    assert [output["prediction"] for output in answer["outputs"]] == ["setosa", "virginica"]
    assert set(answer["outputs"][0]["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert answer["timings"]["batchSize"] >= 2
    assert answer["modelName"] == "iris"


def test_a_bad_record_fails_only_its_own_request_in_a_shared_batch(
    server: ThreadedServer,
) -> None:
    bodies = [[SETOSA], [SETOSA, [1, 2]], [VIRGINICA]] * 4
    with ThreadPoolExecutor(len(bodies)) as pool:
        responses = list(pool.map(lambda records: predict(server, records), bodies))
    assert [r.status_code for r in responses] == [200, 422, 200] * 4
    problem = responses[1].json()
    assert problem["field"] == "records[1]"
    assert "has 2 values; the model was trained on 4" in problem["detail"]
    assert problem["error"].startswith("records[1]: ")
    assert max(r.json()["timings"]["batchRequests"] for r in responses if r.status_code == 200) > 1
    assert httpx.get(f"{server.base_url}/v2/health/ready").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "slug"),
    [
        ("POST", "/v2/models/other/infer", {"inputs": []}, 404, "not-found"),
        ("GET", "/v2/models/other", None, 404, "not-found"),
        ("POST", "/v1/models/iris/predict", {"records": []}, 422, "invalid"),
        ("POST", "/v1/models/iris/predict", {"rows": [SETOSA]}, 422, "invalid"),
        ("POST", "/v1/models/iris/predict", {"records": [SETOSA] * 300}, 413, "too-large"),
        ("POST", "/v2/models/iris/infer", {"inputs": [{"name": "features", "datatype": "FP32",
         "shape": [1, 3], "data": [1, 2, 3]}]}, 422, "invalid"),
        ("GET", "/nowhere", None, 404, "not-found"),
        ("GET", "/v2/models/iris/infer", None, 405, "method-not-allowed"),
    ],
)  # fmt: skip
def test_problems(
    server: ThreadedServer,
    method: str,
    path: str,
    payload: Any,
    status: int,
    slug: str,
) -> None:
    response = httpx.request(method, server.base_url + path, json=payload)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:aijob:problem:{slug}"


def test_malformed_json_is_400(server: ThreadedServer) -> None:
    response = httpx.post(f"{server.base_url}/v1/models/iris/predict", content=b"{records")
    assert response.status_code == 400


def test_an_injected_error_and_the_metrics_that_count_it(server: ThreadedServer) -> None:
    assert predict(server, [SETOSA], **{"X-Aijob-Fault": "error=503"}).status_code == 503
    rule = {"mode": "error", "count": 2}
    assert httpx.put(f"{server.base_url}/admin/faults", json=rule).json()["remaining"] == 2
    assert [predict(server, [SETOSA]).status_code for _ in range(3)] == [500, 500, 200]
    samples = parse_metrics(httpx.get(f"{server.base_url}/metrics").text)
    route = "/v1/models/{name}/predict"
    assert metric(samples, "aijob_serve_injected_faults_total", mode="error") >= 3
    assert metric(samples, "aijob_serve_requests_total", route=route, outcome="injected-fault") >= 3
    assert metric(samples, "aijob_serve_requests_total", route=route, outcome="ok") >= 1
    assert metric(samples, "aijob_serve_model_ready") == 1
    assert metric(samples, "aijob_serve_batch_size_count") >= 1
    assert metric(samples, "aijob_serve_request_duration_seconds_count", route=route) >= 4


def test_over_max_concurrency_is_429(model_uri: str) -> None:
    settings = config(model_uri, max_concurrency=1)
    env = {"AIJOB_SERVE_FAULT_INJECTION": "1"}
    with (
        ThreadedServer(settings, registry=RunnerRegistry([SoftmaxRunner]), env=env) as server,
        ThreadPoolExecutor(1) as pool,
    ):
        slow = pool.submit(predict, server, [SETOSA], **{"X-Aijob-Fault": "delay=1000"})
        wait_until(
            lambda: server.server.state.lifecycle.in_flight == 1, timeout=10, what="one held"
        )
        refused = predict(server, [SETOSA])
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert slow.result().status_code == 200


def test_drain_answers_every_held_request_and_refuses_new_ones(model_uri: str) -> None:
    env = {"AIJOB_SERVE_FAULT_INJECTION": "1"}
    server = ThreadedServer(config(model_uri), registry=RunnerRegistry([SoftmaxRunner]), env=env)
    with server, ThreadPoolExecutor(8) as pool:
        held = [
            pool.submit(predict, server, [SETOSA], **{"X-Aijob-Fault": "delay=1500"})
            for _ in range(8)
        ]
        wait_until(lambda: server.server.state.lifecycle.in_flight == 8, timeout=10, what="8 held")
        server.request_stop()
        wait_until(
            lambda: httpx.get(f"{server.base_url}/v2/health/ready").status_code == 503,
            timeout=5,
            what="readiness off",
        )
        assert predict(server, [SETOSA]).status_code == 503
        assert [future.result().status_code for future in held] == [200] * 8
        assert server.stop() == 0


def test_a_model_that_cannot_load_ends_the_server_with_65(tmp_path: Path) -> None:
    settings = config(f"file://{tmp_path}/missing")
    env = {"AIJOB_TERMINATION_MESSAGE_PATH": str(tmp_path / "termination-log")}
    server = ThreadedServer(settings, registry=RunnerRegistry([SoftmaxRunner]), env=env)
    with server:
        assert server.stop() == 65
    message = (tmp_path / "termination-log").read_text()
    assert message.startswith("bad input: modelUri: cannot load the model at file://")


def test_a_model_type_other_than_the_config_says_is_refused(model_uri: str, tmp_path: Path) -> None:
    settings = config(model_uri, model_type="random_forest")
    env = {"AIJOB_TERMINATION_MESSAGE_PATH": str(tmp_path / "termination-log")}
    with ThreadedServer(settings, registry=RunnerRegistry([SoftmaxRunner]), env=env) as server:
        assert server.stop() == 65
    assert "modelType: 'random_forest' does not match" in (tmp_path / "termination-log").read_text()


def test_binary_answer_when_asked(server: ThreadedServer) -> None:
    request = json.dumps(
        {
            "inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 4], "data": SETOSA}],
            "outputs": [{"name": "prediction", "parameters": {"binary_data": True}}],
        }
    ).encode()
    response = httpx.post(f"{server.base_url}/v2/models/iris/infer", content=request)
    length = int(response.headers["inference-header-content-length"])
    header = json.loads(response.content[:length])
    assert header["outputs"][0]["parameters"]["binary_data_size"] == 4 + len("setosa")
    assert response.content[length + 4 :] == b"setosa"


def test_a_chunked_body_over_the_limit_is_413_while_read(server: ThreadedServer) -> None:
    chunks = iter([b'{"records": [' + b"1," * 1500, b"1," * 1500 + b"1]}"])
    response = httpx.post(f"{server.base_url}/v1/models/iris/predict", content=chunks)
    assert response.status_code == 413
    assert "4096 bytes" in response.json()["detail"]


def test_a_request_not_answered_within_its_timeout_is_504(model_uri: str) -> None:
    settings = config(model_uri, max_batch_wait_ms=3000, request_timeout_seconds=0.2)
    with ThreadedServer(settings, registry=RunnerRegistry([SoftmaxRunner])) as server:
        response = predict(server, [SETOSA])
        assert response.status_code == 504
        assert response.json()["type"] == "urn:aijob:problem:timeout"
        assert server.server.state.batcher is not None
        assert server.server.state.batcher.queue_depth == 0
