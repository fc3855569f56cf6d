"""A run of a job's records on its endpoint: chunks, turns, retries, refusals, the outcome."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from aijob_api.conditions import Reason
from aijob_operator.endpoint_job_calls import (
    RunPlan,
    choose_replica,
    run_records,
    shifted_field,
)
from aijob_operator.endpoint_job_decide import Replica

REPLICAS = (Replica("iris-0", "http://a:8080"), Replica("iris-1", "http://b:8080"))


class FakeReplicas:
    """The replicas' answers, scripted per call; every call is recorded."""

    def __init__(self, script: Sequence[Any] = ()) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, list[Any]]] = []

    async def post(
        self, address: str, path: str, body: bytes, timeout_s: float
    ) -> tuple[int, bytes]:
        records = json.loads(body)["records"]
        assert path == "/v1/models/iris/predict"
        self.calls.append((address, records))
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, BaseException):
            raise step
        if step == "ok":
            answer = {
                "outputs": [{"prediction": f"p{record[0]}"} for record in records],
                "timings": {"prepareMs": 1.0, "inferMs": 2.0, "postprocessMs": 0.5, "queueMs": 9},
            }
            return 200, json.dumps(answer).encode()
        status, document = tuple(step)
        return int(status), json.dumps(document).encode()


async def no_sleep(_: float) -> None:
    return None


def plan(records: int = 5, chunk_size: int = 2, attempts: int = 3) -> RunPlan:
    return RunPlan(
        endpoint="iris",
        records=[[number, 0, 0, 0] for number in range(records)],
        chunk_size=chunk_size,
        timeout_seconds=5,
        max_attempts=attempts,
    )


async def test_records_go_in_chunks_of_the_batch_size_and_come_back_in_order() -> None:
    fake = FakeReplicas()
    outcome = await run_records(plan(), lambda: REPLICAS, fake.post, no_sleep)
    assert outcome.succeeded
    assert [len(records) for _, records in fake.calls] == [2, 2, 1]
    assert [output["prediction"] for output in outcome.outputs] == [f"p{n}" for n in range(5)]
    assert outcome.chunks == 3
    assert outcome.timings is not None
    assert (outcome.timings.prepare_ms, outcome.timings.infer_ms) == (3.0, 6.0)
    assert outcome.timings.postprocess_ms == 1.5
    assert {address for address, _ in fake.calls} == {"http://a:8080", "http://b:8080"}


async def test_a_replica_fault_is_retried_on_another_replica() -> None:
    fake = FakeReplicas([ConnectionError("refused"), (503, {"detail": "draining"})])
    outcome = await run_records(plan(records=1), lambda: REPLICAS, fake.post, no_sleep)
    assert outcome.succeeded
    assert outcome.retries == 2
    assert [address for address, _ in fake.calls] == [
        "http://a:8080",
        "http://b:8080",
        "http://a:8080",
    ]


async def test_attempts_are_bounded_and_the_last_error_is_said() -> None:
    fake = FakeReplicas([(500, {"detail": "boom"})] * 5)
    outcome = await run_records(plan(records=3, attempts=2), lambda: REPLICAS, fake.post, no_sleep)
    assert not outcome.succeeded
    assert outcome.reason == Reason.ENDPOINT_CALL_FAILED
    assert len(fake.calls) == 2
    assert "records 0..1 (chunk 1 of 2) failed on endpoint iris 2 time(s)" in outcome.message
    assert "answered 500: boom" in outcome.message


async def test_no_ready_replica_counts_as_a_failed_attempt() -> None:
    fake = FakeReplicas()
    pools: list[Sequence[Replica]] = [(), (), REPLICAS]
    outcome = await run_records(plan(records=1), lambda: pools.pop(0), fake.post, no_sleep)
    assert outcome.succeeded
    assert outcome.retries == 2


async def test_a_refused_record_fails_at_once_naming_it_in_the_job() -> None:
    refusal = (422, {"detail": "has 2 values; the model was trained on 4", "field": "records[1]"})
    fake = FakeReplicas(["ok", refusal])
    outcome = await run_records(plan(records=5), lambda: REPLICAS, fake.post, no_sleep)
    assert not outcome.succeeded
    assert outcome.reason == Reason.BAD_INPUT
    assert "spec.input.records[3]: has 2 values" in outcome.message
    assert len(fake.calls) == 2, "a refusal is never retried"


async def test_an_answer_without_one_output_per_record_is_retried() -> None:
    fake = FakeReplicas([(200, {"outputs": []})])
    outcome = await run_records(plan(records=1), lambda: REPLICAS, fake.post, no_sleep)
    assert outcome.succeeded
    assert outcome.retries == 1


@pytest.mark.parametrize(
    ("field", "offset", "shifted"),
    [
        ("records[1]", 64, "spec.input.records[65]"),
        ("records[0].features", 2, "spec.input.records[2].features"),
        ("records", 2, "spec.input.records"),
        (None, 2, None),
    ],
)
def test_a_replicas_field_names_the_jobs_record(
    field: str | None, offset: int, shifted: str | None
) -> None:
    assert shifted_field(field, offset) == shifted


def test_replicas_take_turns_and_untried_ones_come_first() -> None:
    assert choose_replica((), set(), 0) is None
    assert choose_replica(REPLICAS, set(), 1) == REPLICAS[1]
    assert choose_replica(REPLICAS, {"iris-1"}, 1) == REPLICAS[0]
    assert choose_replica(REPLICAS, {"iris-0", "iris-1"}, 3) == REPLICAS[1]
