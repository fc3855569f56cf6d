"""Micro-batching: order, the largest batch, the longest wait, per-request errors, timeouts."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from aijob_worker.errors import BadInputError
from aijob_worker.predict import StageTimes
from aijob_worker.serve.batcher import Answer, MicroBatcher
from aijob_worker.serve.model import BatchResult, RequestOutcome


class Recorder:
    """A model that multiplies by ten, fails a request holding "bad", and records its batches."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[list[Any]]] = []
        self.gate = gate
        self.entered = threading.Event()

    def __call__(self, requests: Sequence[Sequence[Any]]) -> BatchResult:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        self.batches.append([list(records) for records in requests])
        outcomes: list[RequestOutcome] = []
        for records in requests:
            if "bad" in records:
                index = list(records).index("bad")
                outcomes.append(BadInputError(f"spec.input.records[{index}]", "not a number"))
            elif "boom" in records:
                raise RuntimeError("the model broke")
            else:
                outcomes.append([record * 10 for record in records])
        return BatchResult(outcomes, StageTimes(prepare_ms=1.0, infer_ms=2.0, postprocess_ms=3.0))


def run(
    model: Recorder,
    scenario: Callable[[MicroBatcher], Awaitable[Any]],
    *,
    max_batch_size: int = 4,
    max_wait_seconds: float = 0.05,
) -> Any:
    async def main() -> Any:
        batcher = MicroBatcher(
            model, max_batch_size=max_batch_size, max_wait_seconds=max_wait_seconds
        )
        batcher.start()
        try:
            return await scenario(batcher)
        finally:
            await batcher.close()

    return asyncio.run(main())


async def until(check: Callable[[], bool], time_limit: float = 10) -> None:
    """Yield to the loop until `check()` holds (fails after `time_limit` seconds)."""
    deadline = time.monotonic() + time_limit
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.001)


def submit_all(
    batcher: MicroBatcher, requests: Sequence[list[Any]], timeout: float = 10
) -> Awaitable[list[Answer | BaseException]]:
    return asyncio.gather(
        *(batcher.submit(records, time_limit=timeout) for records in requests),
        return_exceptions=True,
    )


def test_each_request_gets_its_own_outputs_in_order() -> None:
    model = Recorder()
    requests = [[1], [2, 3], [4], [5, 6, 7]]
    answers = run(model, lambda batcher: submit_all(batcher, requests), max_batch_size=16)
    assert [answer.outputs for answer in answers] == [[10], [20, 30], [40], [50, 60, 70]]
    assert model.batches == [requests], "submitted together, they ran as one batch in order"
    timings = answers[0].timings
    assert (timings.batch_records, timings.batch_requests) == (7, 4)
    assert (timings.prepare_ms, timings.infer_ms, timings.postprocess_ms) == (1.0, 2.0, 3.0)
    assert timings.queue_ms >= 0


def test_a_batch_never_holds_more_than_the_largest_size_nor_splits_a_request() -> None:
    model = Recorder()
    requests = [[1], [2], [3], [4, 5], [6], [7, 8, 9, 10, 11, 12], [13]]
    answers = run(model, lambda batcher: submit_all(batcher, requests), max_batch_size=4)
    assert [answer.outputs for answer in answers] == [
        [record * 10 for record in records] for records in requests
    ]
    assert model.batches == [[[1], [2], [3]], [[4, 5], [6]], [[7, 8, 9, 10, 11, 12]], [[13]]]


def test_a_full_batch_starts_without_waiting() -> None:
    model = Recorder()

    async def scenario(batcher: MicroBatcher) -> float:
        started = time.perf_counter()
        await submit_all(batcher, [[1], [2]])
        return time.perf_counter() - started

    elapsed = run(model, scenario, max_batch_size=2, max_wait_seconds=30)
    assert elapsed < 5, "a full batch waited for the longest wait"
    assert model.batches == [[[1], [2]]]


def test_a_lone_request_waits_at_most_the_longest_wait() -> None:
    model = Recorder()

    async def scenario(batcher: MicroBatcher) -> tuple[float, Answer]:
        started = time.perf_counter()
        answer = await batcher.submit([1], time_limit=10)
        return time.perf_counter() - started, answer

    elapsed, answer = run(model, scenario, max_batch_size=8, max_wait_seconds=0.2)
    assert 0.15 <= elapsed < 5
    assert answer.timings.queue_ms >= 150
    assert model.batches == [[[1]]]


def test_requests_arriving_while_a_batch_runs_form_the_next_one() -> None:
    gate = threading.Event()
    model = Recorder(gate)

    async def scenario(batcher: MicroBatcher) -> list[Answer | BaseException]:
        first = asyncio.ensure_future(batcher.submit([1], time_limit=10))
        await until(model.entered.is_set)
        later = [asyncio.ensure_future(batcher.submit([n], time_limit=10)) for n in (2, 3, 4)]
        await until(lambda: batcher.queue_depth == 3)
        gate.set()
        return await asyncio.gather(first, *later)

    answers = run(model, scenario, max_batch_size=8, max_wait_seconds=0)
    assert [answer.outputs for answer in answers] == [[10], [20], [30], [40]]
    assert model.batches == [[[1]], [[2], [3], [4]]]


def test_a_bad_request_fails_alone() -> None:
    model = Recorder()
    requests: list[list[Any]] = [[1], [2, "bad"], [3]]
    answers = run(model, lambda batcher: submit_all(batcher, requests))
    assert answers[0].outputs == [10]
    assert isinstance(answers[1], BadInputError)
    assert answers[1].field == "spec.input.records[1]"
    assert answers[2].outputs == [30]


def test_a_broken_model_fails_its_batch_and_the_next_batch_runs() -> None:
    model = Recorder()

    async def scenario(batcher: MicroBatcher) -> tuple[list[Any], Answer]:
        failed = await submit_all(batcher, [[1], ["boom"]])
        return failed, await batcher.submit([5], time_limit=10)

    failed, after = run(model, scenario)
    assert all(isinstance(outcome, RuntimeError) for outcome in failed)
    assert after.outputs == [50]


def test_a_request_past_its_timeout_is_dropped_from_the_queue() -> None:
    gate = threading.Event()
    model = Recorder(gate)

    async def scenario(batcher: MicroBatcher) -> list[Any]:
        running = asyncio.ensure_future(batcher.submit([1], time_limit=10))
        await until(model.entered.is_set)
        with pytest.raises(TimeoutError):
            await batcher.submit([2], time_limit=0.05)
        assert batcher.queue_depth == 0
        gate.set()
        return [await running, await batcher.submit([3], time_limit=10)]

    first, third = run(model, scenario, max_wait_seconds=0)
    assert (first.outputs, third.outputs) == ([10], [30])
    assert model.batches == [[[1]], [[3]]], "the timed-out request never ran"
