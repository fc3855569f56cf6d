"""What a replica's answer means to the gateway's client (pure: no I/O).

A 2xx answer of the JSON route becomes the result (outputs, the model, the replica's
stage timings and the gateway's own); a refusal of the request by the replica (a 4xx,
never retried: it would fail on any replica) becomes the gateway's problem with the
replica's words and field: 422 naming the record at fault, 400 or 413 as they came,
anything else a 502 (the replica and the gateway disagree, e.g. on the model's name).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from pydantic import JsonValue

from aijob_gateway.dispatch.contract import DispatchResult
from aijob_gateway.errors import (
    BadRequestError,
    GatewayError,
    InvalidRequestError,
    PayloadTooLargeError,
    UpstreamError,
)
from aijob_gateway.serving.transport import PodAnswer, PodRequest

JSON_CONTENT_TYPE: Final = "application/json"


def predict_request(model: str, records: list[JsonValue]) -> PodRequest:
    """The JSON route's request for `records` (the model is named as the endpoint)."""
    return PodRequest(
        method="POST",
        path=f"/v1/models/{model}/predict",
        body=json.dumps({"records": records}, separators=(",", ":")).encode(),
        headers={"content-type": JSON_CONTENT_TYPE},
    )


@dataclass(frozen=True)
class Prediction:
    """A replica's outputs for the records, and how they were obtained."""

    model_name: str | None
    model_checksum: str | None
    outputs: list[JsonValue]
    timings: dict[str, int | float]
    pod: str
    attempts: int

    @property
    def retries(self) -> int:
        """Attempts after the first one."""
        return self.attempts - 1


def _document(answer: PodAnswer) -> dict[str, Any] | None:
    try:
        document = json.loads(answer.body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def gateway_timings(result: DispatchResult[PodAnswer]) -> dict[str, float]:
    """The gateway's share: time to a replica and earlier attempts, the HTTP exchange, total."""
    total_ms = result.latency_s * 1000
    round_trip_ms = result.reply.round_trip_s * 1000
    return {
        "dispatchMs": round(max(0.0, total_ms - round_trip_ms), 3),
        "roundTripMs": round(round_trip_ms, 3),
        "totalMs": round(total_ms, 3),
    }


def refusal(answer: PodAnswer, pod: str) -> GatewayError:
    """The gateway's problem for a replica's refusal of the request (a 4xx)."""
    document = _document(answer) or {}
    detail = str(document.get("detail") or answer.body[:512].decode(errors="replace"))
    field = document.get("field")
    field = str(field) if field else None
    if answer.status_code == 422:
        shown = f"{field}: {detail}" if field and not detail.startswith(field) else detail
        return InvalidRequestError(shown, field=field)
    if answer.status_code == 400:
        return BadRequestError(f"the model server could not read the request: {detail}")
    if answer.status_code == 413:
        return PayloadTooLargeError(f"the model server refused the body: {detail}")
    return UpstreamError(f"replica {pod} answered {answer.status_code}: {detail}")


def prediction(result: DispatchResult[PodAnswer]) -> Prediction:
    """The result of the JSON route's answer; raises the problem for a refusal."""
    answer = result.reply
    if answer.status_code >= 300:
        raise refusal(answer, result.pod)
    document = _document(answer)
    outputs = None if document is None else document.get("outputs")
    if document is None or not isinstance(outputs, list):
        raise UpstreamError(f"replica {result.pod} answered {answer.status_code} without outputs")
    pod_timings = document.get("timings")
    timings: dict[str, int | float] = {
        key: value
        for key, value in (pod_timings.items() if isinstance(pod_timings, dict) else ())
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    timings.update(gateway_timings(result))
    return Prediction(
        model_name=_text(document.get("modelName")),
        model_checksum=_text(document.get("modelChecksum")),
        outputs=outputs,
        timings=timings,
        pod=result.pod,
        attempts=result.attempts,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
