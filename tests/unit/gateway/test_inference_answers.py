"""What a replica's answer becomes: the result with both sides' timings, or the right problem."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aijob_gateway.dispatch import DispatchResult
from aijob_gateway.errors import (
    BadRequestError,
    GatewayError,
    InvalidRequestError,
    PayloadTooLargeError,
    UpstreamError,
)
from aijob_gateway.services.inference_answers import predict_request, prediction
from aijob_gateway.serving.transport import PodAnswer

POD_TIMINGS = {"queueMs": 1.5, "prepareMs": 0.1, "inferMs": 9.0, "postprocessMs": 0.2}


def result(status: int, body: Any, *, attempts: int = 1, latency_s: float = 0.030) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = PodAnswer(status_code=status, body=content, headers={}, round_trip_s=0.012)
    return DispatchResult(reply=answer, pod="iris-1", attempts=attempts, latency_s=latency_s)


def test_the_json_routes_request() -> None:
    request = predict_request("iris", [[5.1, 3.5, 1.4, 0.2], {"text": "hi"}])
    assert (request.method, request.path) == ("POST", "/v1/models/iris/predict")
    assert json.loads(request.body) == {"records": [[5.1, 3.5, 1.4, 0.2], {"text": "hi"}]}
    assert request.headers["content-type"] == "application/json"


def test_a_result_carries_the_replicas_timings_and_the_gateways() -> None:
    body = {
        "modelName": "iris",
        "modelChecksum": "ab" * 32,
        "outputs": [{"prediction": "setosa"}],
        "timings": {**POD_TIMINGS, "batchSize": 3, "note": "not a number", "flag": True},
    }
    predicted = prediction(result(200, body, attempts=2))
    assert predicted.outputs == [{"prediction": "setosa"}]
    assert (predicted.model_name, predicted.pod, predicted.retries) == ("iris", "iris-1", 1)
    assert predicted.timings == {
        **POD_TIMINGS,
        "batchSize": 3,
        "dispatchMs": 18.0,
        "roundTripMs": 12.0,
        "totalMs": 30.0,
    }


@pytest.mark.parametrize(
    ("status", "body", "error", "field", "detail"),
    [
        (
            422,
            {"detail": "has 2 values; the model was trained on 4", "field": "records[1]"},
            InvalidRequestError,
            "records[1]",
            "records[1]: has 2 values; the model was trained on 4",
        ),
        (
            422,
            {"detail": "records[0]: missing feature", "field": "records[0]"},
            InvalidRequestError,
            "records[0]",
            "records[0]: missing feature",
        ),
        (400, {"detail": "not JSON"}, BadRequestError, None, "not JSON"),
        (413, {"detail": "over 16 MiB"}, PayloadTooLargeError, None, "over 16 MiB"),
        (404, {"detail": "serves wine"}, UpstreamError, None, "answered 404: serves wine"),
        (404, b"<html>nope</html>", UpstreamError, None, "<html>nope</html>"),
    ],
)
def test_a_refusal_is_the_gateways_problem_with_the_replicas_words(
    status: int, body: Any, error: type[GatewayError], field: str | None, detail: str
) -> None:
    with pytest.raises(error) as raised:
        prediction(result(status, body))
    assert raised.value.field == field
    assert detail in raised.value.detail


@pytest.mark.parametrize("body", [b"not json", {"outputs": "nope"}, ["a list"]])
def test_a_success_without_outputs_is_an_upstream_error(body: Any) -> None:
    with pytest.raises(UpstreamError, match="without outputs"):
        prediction(result(200, body))
