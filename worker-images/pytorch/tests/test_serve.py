"""`aijob-worker serve` on the PyTorch image: an MLP trained here, served warm and batched."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from aijob_worker.serve.config import ServeConfig
from aijob_worker.serve.testing import ThreadedServer, metric, parse_metrics

from tests.conftest import run_offline

SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.9, 3.1, 5.4, 2.1]


@pytest.fixture(scope="module")
def mlp_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    spec = {
        "task": "training",
        "model": {
            "type": "mlp",
            "hyperparameters": {"epochs": 30, "learningRate": 0.01, "batchSize": 16, "seed": 4},
        },
        "dataset": {"name": "iris"},
    }
    code, status = run_offline(spec, tmp_path_factory.mktemp("mlp"))
    assert code == 0
    uri: str = status["results"]["modelUri"]
    return uri


@pytest.fixture(scope="module")
def server(mlp_model: str) -> Iterator[ThreadedServer]:
    config = ServeConfig(
        name="iris-mlp", model_uri=mlp_model, framework="pytorch", max_batch_wait_ms=10
    )
    with ThreadedServer(config) as running:
        yield running


def predict(server: ThreadedServer, records: list[Any]) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/v1/models/iris-mlp/predict", json={"records": records}, timeout=60
    )


def test_serves_what_an_inference_job_answers(
    server: ThreadedServer, mlp_model: str, tmp_path: Path
) -> None:
    records = [SETOSA, VIRGINICA]
    job = {
        "task": "inference",
        "model": {"type": "mlp", "source": {"uri": mlp_model}},
        "input": {"records": records},
    }
    code, status = run_offline(job, tmp_path)
    assert code == 0
    answer = predict(server, records).json()
    assert [o["prediction"] for o in answer["outputs"]] == ["setosa", "virginica"]
    expected = [o["probabilities"] for o in status["results"]["outputs"]]
    served = [o["probabilities"] for o in answer["outputs"]]
    assert len(served) == len(expected)
    for served_record, expected_record in zip(served, expected, strict=True):
        assert served_record == pytest.approx(expected_record, abs=1e-5)


def test_v2_infer_and_metadata(server: ThreadedServer) -> None:
    metadata = httpx.get(f"{server.base_url}/v2/models/iris-mlp").json()
    assert metadata["platform"] == "pytorch"
    assert metadata["inputs"][0]["shape"] == [-1, 4]
    response = httpx.post(
        f"{server.base_url}/v2/models/iris-mlp/infer",
        json={
            "inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 4], "data": SETOSA}]
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == ["setosa"]


def test_concurrent_requests_share_batches(server: ThreadedServer) -> None:
    with ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(lambda _: predict(server, [VIRGINICA]), range(64)))
    assert {response.status_code for response in responses} == {200}
    samples = parse_metrics(httpx.get(f"{server.base_url}/metrics").text)
    batches = metric(samples, "aijob_serve_batch_requests_count")
    requests = metric(samples, "aijob_serve_batch_requests_sum")
    assert requests / batches > 1
