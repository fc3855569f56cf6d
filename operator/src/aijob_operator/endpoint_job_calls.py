"""A run of one job's records on its endpoint: chunks, replicas, bounded attempts, the outcome.

The records go in chunks of the endpoint's `batching.maxBatchSize` to the model server's
JSON route (`POST /v1/models/{endpoint}/predict` with `{"records": [...]}`,
docs/serving.md), one chunk after the other, each to a ready replica in turn. An
attempt that fails on the replica's side (no answer, a 5xx, a 429: the replica is
crashed, draining or full) is tried again on another replica, at most `max_attempts`
times per chunk with a short back-off; a refusal of the request (a 422 naming a
record, any other 4xx) ends the run at once, since any replica would refuse it too.
The outputs come back in the records' order, with the replicas' stage timings summed.

No I/O library here: `post` (the HTTP call, `aijob_operator.replica_client`) is given,
so unit tests drive a run with a fake transport and no sleep.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aijob_api.conditions import Reason
from aijob_api.status import StageTimings

from aijob_operator.endpoint_job_decide import Replica, RunOutcome

Post = Callable[[str, str, bytes, float], Awaitable[tuple[int, bytes]]]
"""`post(address, path, body, timeout_s)`: the status and body of the answer; raises
`ConnectionError` (or `TimeoutError`) when the replica does not answer."""
Sleep = Callable[[float], Awaitable[None]]

RETRY_DELAY_SECONDS: Final = 0.5
"""Back-off before the second attempt of a chunk; it grows linearly with the attempts."""
_RECORD_FIELD: Final = re.compile(r"^records\[(\d+)\](.*)$")
_TIMING_KEYS: Final = ("prepareMs", "inferMs", "postprocessMs")
"""The replica's stage timings (JSON route, docs/serving.md) summed over the chunks."""


@dataclass(frozen=True)
class RunPlan:
    """What to predict where: the endpoint (its model's name in the route), the records."""

    endpoint: str
    records: Sequence[Any]
    chunk_size: int
    timeout_seconds: float
    max_attempts: int
    retry_delay_seconds: float = RETRY_DELAY_SECONDS

    @property
    def chunks(self) -> int:
        """How many chunks the records make."""
        return -(-len(self.records) // max(1, self.chunk_size))


class RunFailedError(Exception):
    """A chunk cannot be predicted: the reason and message the job fails with."""

    def __init__(self, reason: str, message: str, pod: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.pod = pod


@dataclass
class _Totals:
    outputs: list[Any]
    timings: dict[str, float]
    retries: int = 0
    pod: str | None = None


async def run_records(
    plan: RunPlan,
    replicas: Callable[[], Sequence[Replica]],
    post: Post,
    sleep: Sleep = asyncio.sleep,
) -> RunOutcome:
    """Predict every record of `plan` on the ready `replicas()` (read again per attempt)."""
    totals = _Totals(outputs=[], timings={})
    size = max(1, plan.chunk_size)
    try:
        for index, start in enumerate(range(0, len(plan.records), size)):
            chunk = list(plan.records[start : start + size])
            await _predict_chunk(plan, index, start, chunk, replicas, post, sleep, totals)
    except RunFailedError as failure:
        return RunOutcome(
            succeeded=False,
            reason=failure.reason,
            message=failure.message,
            pod=failure.pod,
            retries=totals.retries,
            chunks=plan.chunks,
        )
    return RunOutcome(
        succeeded=True,
        outputs=totals.outputs,
        timings=_stage_timings(totals.timings),
        pod=totals.pod,
        retries=totals.retries,
        chunks=plan.chunks,
    )


async def _predict_chunk(
    plan: RunPlan,
    index: int,
    start: int,
    chunk: list[Any],
    replicas: Callable[[], Sequence[Replica]],
    post: Post,
    sleep: Sleep,
    totals: _Totals,
) -> None:
    """One chunk, on replicas in turn, until one answers it or the attempts run out."""
    body = json.dumps({"records": chunk}, separators=(",", ":")).encode()
    path = f"/v1/models/{plan.endpoint}/predict"
    tried: set[str] = set()
    last_error = "no attempt made"
    for attempt in range(1, plan.max_attempts + 1):
        if attempt > 1:
            totals.retries += 1
            await sleep(plan.retry_delay_seconds * (attempt - 1))
        replica = choose_replica(replicas(), tried, index + attempt - 1)
        if replica is None:
            last_error = f"endpoint {plan.endpoint} has no ready replica"
            continue
        tried.add(replica.name)
        try:
            status, answer = await post(replica.address, path, body, plan.timeout_seconds)
        except (ConnectionError, TimeoutError, OSError) as error:
            last_error = f"replica {replica.name} did not answer: {error or type(error).__name__}"
            continue
        document = _document(answer)
        if 200 <= status < 300:
            outputs = None if document is None else document.get("outputs")
            if not isinstance(outputs, list) or len(outputs) != len(chunk):
                last_error = (
                    f"replica {replica.name} answered {status} without one output per record"
                )
                continue
            totals.outputs.extend(outputs)
            _add_timings(totals.timings, document)
            totals.pod = replica.name
            return
        detail = _detail(document, answer)
        if status < 500 and status != 429:
            raise _refusal(plan, status, document, detail, start, replica.name)
        last_error = f"replica {replica.name} answered {status}: {detail}"
    end = start + len(chunk) - 1
    raise RunFailedError(
        Reason.ENDPOINT_CALL_FAILED,
        f"records {start}..{end} (chunk {index + 1} of {plan.chunks}) failed on endpoint "
        f"{plan.endpoint} {plan.max_attempts} time(s); the last: {last_error}",
    )


def choose_replica(pool: Sequence[Replica], tried: set[str], turn: int) -> Replica | None:
    """A replica not tried yet for this chunk (any when all were), taking turns by `turn`."""
    if not pool:
        return None
    fresh = [replica for replica in pool if replica.name not in tried] or list(pool)
    return fresh[turn % len(fresh)]


def shifted_field(field: str | None, offset: int) -> str | None:
    """A replica's field (`records[1]...`) as the job's (`spec.input.records[65]...`)."""
    if not field:
        return None
    match = _RECORD_FIELD.match(field)
    if match is None:
        return f"spec.input.{field}"
    return f"spec.input.records[{int(match[1]) + offset}]{match[2]}"


def _refusal(
    plan: RunPlan,
    status: int,
    document: dict[str, Any] | None,
    detail: str,
    start: int,
    pod: str,
) -> RunFailedError:
    """The failure for a replica's refusal of the request (never retried)."""
    raw_field = (document or {}).get("field")
    field = shifted_field(str(raw_field) if raw_field else None, start)
    if status == 422:
        shown = detail if field is None else f"{field}: {detail}"
        return RunFailedError(
            Reason.BAD_INPUT,
            f"endpoint {plan.endpoint} refused the input: {shown}; bad input is never retried",
            pod,
        )
    return RunFailedError(
        Reason.ENDPOINT_CALL_FAILED,
        f"replica {pod} of endpoint {plan.endpoint} refused the request ({status}): {detail}",
        pod,
    )


def _document(answer: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(answer)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _detail(document: dict[str, Any] | None, answer: bytes) -> str:
    detail = (document or {}).get("detail")
    if detail:
        return str(detail)
    return answer[:512].decode(errors="replace").strip() or "no detail"


def _add_timings(totals: dict[str, float], document: dict[str, Any] | None) -> None:
    timings = (document or {}).get("timings")
    if not isinstance(timings, dict):
        return
    for key in _TIMING_KEYS:
        value = timings.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            totals[key] = totals.get(key, 0.0) + float(value)


def _stage_timings(totals: dict[str, float]) -> StageTimings | None:
    """The summed stage timings of every chunk, in ms; None when no replica gave any."""
    if not totals:
        return None
    return StageTimings(
        prepare_ms=_rounded(totals.get("prepareMs")),
        infer_ms=_rounded(totals.get("inferMs")),
        postprocess_ms=_rounded(totals.get("postprocessMs")),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
