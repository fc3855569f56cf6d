"""Dynamic micro-batching: concurrent requests wait briefly and run through the model together.

Requests queue in arrival order. A batch starts once it holds `max_batch_size`
records or its oldest request has waited `max_wait_seconds`, whichever comes
first; a batch never splits a request (one larger than `max_batch_size` runs
alone, in chunks). Batches run one at a time on a single worker thread (models
are not assumed thread-safe), so requests arriving during a batch form the next
one. Each request gets its own outputs, or its own bad input, and its timings:
its queue wait and the stage times of the batch it rode in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from aijob_worker.errors import BadInputError
from aijob_worker.predict import StageTimes
from aijob_worker.serve.model import BatchResult

logger = logging.getLogger(__name__)

RunBatch = Callable[[Sequence[Sequence[Any]]], BatchResult]
"""Runs the records of each request of a batch; one outcome per request (a worker thread)."""


@dataclass(frozen=True)
class RequestTimings:
    """Where a request's time went, in milliseconds, and the batch it ran in."""

    queue_ms: float
    prepare_ms: float
    infer_ms: float
    postprocess_ms: float
    batch_records: int
    batch_requests: int

    def as_dict(self) -> dict[str, float | int]:
        """The `timings` object of an answer (camelCase, 0.01 ms)."""
        return {
            "queueMs": round(self.queue_ms, 2),
            "prepareMs": round(self.prepare_ms, 2),
            "inferMs": round(self.infer_ms, 2),
            "postprocessMs": round(self.postprocess_ms, 2),
            "batchSize": self.batch_records,
            "batchRequests": self.batch_requests,
        }


@dataclass(frozen=True)
class Answer:
    """A request's outputs (one per record) and its timings."""

    outputs: list[Any]
    timings: RequestTimings


class BatchObserver(Protocol):
    """Told about the queue and every batch (the metrics)."""

    def queue_changed(self, depth: int) -> None:
        """The number of requests waiting for a batch changed."""

    def batch_done(self, records: int, requests: int) -> None:
        """A batch ran (successfully or not)."""

    def stages_timed(self, times: StageTimes) -> None:
        """A batch ran to its end in these stage times."""


@dataclass(eq=False)
class _Pending:
    records: Sequence[Any]
    future: asyncio.Future[Answer]
    enqueued_at: float


class MicroBatcher:
    """Queues requests and runs them in batches on one worker thread."""

    def __init__(
        self,
        run_batch: RunBatch,
        *,
        max_batch_size: int,
        max_wait_seconds: float,
        observer: BatchObserver | None = None,
    ) -> None:
        self._run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_wait_seconds = max_wait_seconds
        self._observer = observer
        self._waiting: deque[_Pending] = deque()
        self._waiting_records = 0
        self._arrived = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._collector: asyncio.Task[None] | None = None

    @property
    def queue_depth(self) -> int:
        """Requests waiting for a batch (not those running)."""
        return len(self._waiting)

    def start(self) -> None:
        """Start the worker thread and the task that forms batches (in the running loop)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aijob-model")
        self._collector = asyncio.get_running_loop().create_task(self._collect())

    async def close(self) -> None:
        """Stop forming batches; requests still queued fail; the worker thread is released."""
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collector
        while self._waiting:
            pending = self._take()
            if not pending.future.done():
                pending.future.set_exception(RuntimeError("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._notify_queue()

    async def submit(self, records: Sequence[Any], *, time_limit: float) -> Answer:
        """The request's answer; its `BadInputError`; TimeoutError after `time_limit` seconds."""
        loop = asyncio.get_running_loop()
        pending = _Pending(records, loop.create_future(), loop.time())
        self._waiting.append(pending)
        self._waiting_records += len(records)
        self._notify_queue()
        if len(self._waiting) == 1 or self._waiting_records >= self.max_batch_size:
            self._arrived.set()  # wake the collector only to start a batch or to close a full one
        try:
            return await asyncio.wait_for(pending.future, time_limit)
        except TimeoutError:
            with contextlib.suppress(ValueError):
                self._waiting.remove(pending)
                self._waiting_records -= len(records)
                self._notify_queue()
            raise

    async def _collect(self) -> None:
        while True:
            batch = await self._next_batch()
            if not batch:
                continue
            try:
                await self._run(batch)
            except Exception as error:  # a broken runner must not stop the batching
                logger.exception("a batch failed")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)

    async def _next_batch(self) -> list[_Pending]:
        loop = asyncio.get_running_loop()
        while not self._waiting:
            self._arrived.clear()
            await self._arrived.wait()
        deadline = self._waiting[0].enqueued_at + self.max_wait_seconds
        while self._waiting_records < self.max_batch_size:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        batch: list[_Pending] = []
        size = 0
        while self._waiting:
            pending = self._waiting[0]
            if not pending.future.done():
                if batch and size + len(pending.records) > self.max_batch_size:
                    break
                batch.append(pending)
                size += len(pending.records)
            self._take()
        self._notify_queue()
        return batch

    def _take(self) -> _Pending:
        pending = self._waiting.popleft()
        self._waiting_records -= len(pending.records)
        return pending

    async def _run(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        records = sum(len(pending.records) for pending in batch)
        try:
            result = await loop.run_in_executor(
                self._executor, self._run_batch, [pending.records for pending in batch]
            )
        finally:
            if self._observer is not None:
                self._observer.batch_done(records, len(batch))
        if len(result.outcomes) != len(batch):
            raise RuntimeError(f"{len(result.outcomes)} outcomes for {len(batch)} requests")
        if self._observer is not None:
            self._observer.stages_timed(result.times)
        for pending, outcome in zip(batch, result.outcomes, strict=True):
            if pending.future.done():
                continue
            if isinstance(outcome, BadInputError):
                pending.future.set_exception(outcome)
                continue
            timings = RequestTimings(
                queue_ms=(started - pending.enqueued_at) * 1000,
                prepare_ms=result.times.prepare_ms,
                infer_ms=result.times.infer_ms,
                postprocess_ms=result.times.postprocess_ms,
                batch_records=records,
                batch_requests=len(batch),
            )
            pending.future.set_result(Answer(outcome, timings))

    def _notify_queue(self) -> None:
        if self._observer is not None:
            self._observer.queue_changed(len(self._waiting))
