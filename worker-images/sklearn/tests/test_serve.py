"""`aijob-worker serve` as the image runs it, serving a random forest trained here.

Called through plain HTTP (httpx) and through tritonclient's HTTP client (an
Open Inference Protocol client nobody here wrote); batching under concurrency,
drain on SIGTERM with requests in flight, injected crashes, bad settings.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
import tritonclient.http as triton
from aijob_worker.serve.testing import ServeProcess, metric, wait_until
from tritonclient.utils import InferenceServerException

from tests.conftest import run_offline

SETOSA = [5.1, 3.5, 1.4, 0.2]
VERSICOLOR = [5.9, 2.8, 4.3, 1.3]
VIRGINICA = [6.9, 3.1, 5.4, 2.1]
FAULTS_ON = {"AIJOB_SERVE_FAULT_INJECTION": "1"}


def serve_arguments(model_uri: str, *extra: str) -> list[str]:
    return ["--name", "iris", "--model-uri", model_uri, "--framework", "sklearn", *extra]


@pytest.fixture(scope="module")
def served(iris_model: str) -> Iterator[ServeProcess]:
    arguments = serve_arguments(iris_model, "--model-type", "random_forest")
    with ServeProcess([*arguments, "--max-batch-wait-ms", "20"], env=FAULTS_ON) as process:
        process.wait_ready()
        yield process


def predict(base_url: str, records: list[Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/v1/models/iris/predict", json={"records": records}, headers=headers, timeout=60
    )


def test_the_json_route_answers_what_an_inference_job_answers(
    served: ServeProcess, iris_model: str, tmp_path: Path
) -> None:
    records = [SETOSA, {"features": VIRGINICA}, VERSICOLOR]
    job = {
        "task": "inference",
        "model": {"type": "random_forest", "source": {"uri": iris_model}},
        "input": {"records": records},
    }
    code, status = run_offline(job, tmp_path)
    assert code == 0
    answer = predict(served.base_url, records).json()
    assert answer["outputs"] == status["results"]["outputs"]
    assert [output["prediction"] for output in answer["outputs"]] == [
        "setosa",
        "virginica",
        "versicolor",
    ]
    assert {"prepareMs", "inferMs", "postprocessMs", "queueMs"} <= set(answer["timings"])


def test_v2_over_plain_http(served: ServeProcess) -> None:
    response = httpx.post(
        f"{served.base_url}/v2/models/iris/infer",
        json={
            "inputs": [
                {
                    "name": "features",
                    "datatype": "FP64",
                    "shape": [2, 4],
                    "data": [SETOSA, VIRGINICA],
                }
            ],
            "outputs": [{"name": "prediction"}],
        },
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["outputs"] == [
        {"name": "prediction", "datatype": "BYTES", "shape": [2], "data": ["setosa", "virginica"]}
    ]
    assert answer["parameters"]["inferMs"] > 0


@pytest.mark.parametrize("binary", [True, False], ids=["binary tensors", "json tensors"])
def test_tritonclient_infers_unchanged(served: ServeProcess, binary: bool) -> None:
    client = triton.InferenceServerClient(url=served.base_url.removeprefix("http://"))
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("iris")
        metadata = client.get_model_metadata("iris")
        assert metadata["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 4]}]
        features = triton.InferInput("features", [3, 4], "FP32")
        features.set_data_from_numpy(
            np.array([SETOSA, VERSICOLOR, VIRGINICA], dtype=np.float32), binary_data=binary
        )
        outputs = [
            triton.InferRequestedOutput("prediction", binary_data=binary),
            triton.InferRequestedOutput("probabilities", binary_data=binary),
        ]
        result = client.infer("iris", [features], outputs=outputs, request_id="t-1")
        predictions = [
            bytes(p).decode() if binary else str(p) for p in result.as_numpy("prediction")
        ]
        assert predictions == ["setosa", "versicolor", "virginica"]
        probabilities = result.as_numpy("probabilities")
        assert probabilities is not None
        assert probabilities.shape == (3, 3)
        assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
        assert result.get_response()["id"] == "t-1"
    finally:
        client.close()


def test_tritonclient_sees_a_wrong_shape_as_an_error_naming_the_field(
    served: ServeProcess,
) -> None:
    client = triton.InferenceServerClient(url=served.base_url.removeprefix("http://"))
    try:
        features = triton.InferInput("features", [1, 3], "FP32")
        features.set_data_from_numpy(np.array([[1, 2, 3]], dtype=np.float32))
        with pytest.raises(InferenceServerException, match=r"inputs\[0\]\.shape: is \[1, 3\]"):
            client.infer("iris", [features])
    finally:
        client.close()


def test_concurrent_requests_run_in_shared_batches(served: ServeProcess) -> None:
    before = served.metrics()
    with ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(lambda _: predict(served.base_url, [SETOSA]), range(64)))
    assert [response.status_code for response in responses] == [200] * 64
    after = served.metrics()
    batches = metric(after, "aijob_serve_batch_requests_count") - metric(
        before, "aijob_serve_batch_requests_count"
    )
    requests = metric(after, "aijob_serve_batch_requests_sum") - metric(
        before, "aijob_serve_batch_requests_sum"
    )
    assert requests == 64
    assert requests / batches > 1, f"64 requests ran in {batches:g} batches"
    assert max(response.json()["timings"]["batchRequests"] for response in responses) > 1


def test_sigterm_drains_requests_in_flight_then_exits_0(iris_model: str) -> None:
    with (
        ServeProcess(serve_arguments(iris_model), env=FAULTS_ON) as process,
        ThreadPoolExecutor(6) as pool,
    ):
        process.wait_ready()
        slow = {"X-Aijob-Fault": "delay=2000"}
        held = [pool.submit(predict, process.base_url, [SETOSA], **slow) for _ in range(6)]
        wait_until(
            lambda: metric(process.metrics(), "aijob_serve_in_flight_requests") == 6,
            timeout=30,
            what="6 requests in flight",
        )
        process.terminate()
        wait_until(
            lambda: httpx.get(f"{process.base_url}/v2/health/ready").status_code == 503,
            timeout=10,
            what="readiness off after SIGTERM",
        )
        assert predict(process.base_url, [SETOSA]).status_code == 503
        answers = [future.result() for future in held]
        assert [answer.status_code for answer in answers] == [200] * 6
        assert all(a.json()["outputs"][0]["prediction"] == "setosa" for a in answers)
        stderr = process.wait()
        assert process.process.returncode == 0, stderr
        assert '"event": "drained"' in stderr


def test_an_injected_crash_ends_the_process_without_an_answer(iris_model: str) -> None:
    with ServeProcess(serve_arguments(iris_model), env=FAULTS_ON) as process:
        process.wait_ready()
        with pytest.raises(httpx.TransportError):
            predict(process.base_url, [SETOSA], **{"X-Aijob-Fault": "exit"})
        process.wait()
        assert process.process.returncode == 1


def test_without_the_environment_no_fault_is_injected(iris_model: str) -> None:
    with ServeProcess(serve_arguments(iris_model)) as process:
        process.wait_ready()
        assert predict(process.base_url, [SETOSA], **{"X-Aijob-Fault": "exit"}).status_code == 200
        assert httpx.get(f"{process.base_url}/admin/faults").status_code == 404


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--max-batch-size", "0"], "maxBatchSize: Input should be greater than or equal to 1"),
        (["--framework", "pytorch"], "framework: 'pytorch' does not match the model"),
    ],
)
def test_bad_settings_exit_65_naming_the_field(
    iris_model: str, tmp_path: Path, arguments: list[str], message: str
) -> None:
    command = [sys.executable, "-m", "aijob_worker", "serve", *serve_arguments(iris_model)]
    command += [*arguments, "--port", "0"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 65, finished.stderr
    assert message in finished.stderr


def test_a_missing_model_exits_65(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "aijob_worker", "serve"]
    command += serve_arguments(f"file://{tmp_path}/nothing", "--port", "0")
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 65, finished.stderr
    assert "bad input: modelUri: cannot load the model at file://" in finished.stderr
