"""Throttled progress reports into the AIJob's status, written by a background thread.

`report()` is what a training loop calls, as often as it likes (every batch is
fine): it only records the latest values and returns, so the loop never waits
on the network. A background thread writes the latest snapshot at most once per
interval, retries failed writes with exponential back-off, drops a write the API
server refuses (a 4xx such as 422: the same write cannot pass, a later one may),
and stops writing for good only when the AIJob is gone or was re-created.
`close()` always writes a final snapshot. Nothing here raises into the training loop.

Every report's metrics also go into the job's metric history (`aijob_worker.history`,
`status.metricHistory`), folded in by the writer's thread and written at most once per
history interval (three progress intervals by default, as the history is the larger
part), and with every synchronous write (checkpoint, results, the final progress).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aijob_api.metric_history import MetricHistory
from aijob_api.status import Progress, StatusOwner, status_fields

from aijob_worker.history import MetricHistoryRecorder
from aijob_worker.status import StatusWriteError, StatusWriter

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
FIRST_BACKOFF_SECONDS = 0.5
SYNC_WRITE_DEADLINE_SECONDS = 10.0
"""How long a synchronous write (checkpoint, results, the final progress) keeps retrying."""
WORKER_WIRE_FIELDS = frozenset(status_fields(StatusOwner.WORKER, by_alias=True))
"""The status fields (camelCase) a worker may patch: its share, as the status model declares."""
HISTORY_INTERVAL_FACTOR = 3.0
"""The metric history is written at most once per this many progress intervals."""
HISTORY_FIELD = "metricHistory"


def backoff_seconds(failures: int, *, jitter: Callable[[], float] = random.random) -> float:
    """Delay before retry number `failures` (1-based): doubling, capped, with up to 20% jitter."""
    base = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2.0 ** max(0, failures - 1))
    return base * (1.0 + 0.2 * jitter())


def _retry_delay(failures: int, error: StatusWriteError) -> float:
    """The back-off, or longer when the server asked to wait (`Retry-After`)."""
    return max(backoff_seconds(failures), error.retry_after or 0.0)


def clean_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Keep the finite numeric metrics (numpy and tensor scalars become floats)."""
    cleaned: dict[str, float] = {}
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            cleaned[str(name)] = number
    return cleaned


def build_progress(
    state: Mapping[str, Any],
    *,
    started_at: float,
    start_fraction: float | None,
    now: datetime,
) -> Progress:
    """Turn the recorded values into a Progress: percent from steps or epochs, and an ETA."""
    fraction = _fraction(state)
    percent = state.get("percent")
    if percent is None and fraction is not None:
        percent = math.floor(fraction * 100)
    eta: float | None = None
    sampled_at = state.get("sampled_at")
    if fraction is not None and start_fraction is not None and sampled_at is not None:
        done = fraction - start_fraction
        if done > 0:
            eta = max(0.0, (sampled_at - started_at) * (1.0 - fraction) / done)
        elif fraction >= 1.0:
            eta = 0.0
    return Progress(
        percent=None if percent is None else max(0, min(100, int(percent))),
        epoch=state.get("epoch"),
        total_epochs=state.get("total_epochs"),
        step=state.get("step"),
        total_steps=state.get("total_steps"),
        metrics=clean_metrics(state.get("metrics") or {}),
        eta_seconds=None if eta is None else round(eta, 1),
        stage=state.get("stage"),
        updated_at=now,
    )


def _fraction(state: Mapping[str, Any]) -> float | None:
    step, total_steps = state.get("step"), state.get("total_steps")
    if step is not None and total_steps:
        return _clamp(float(step) / float(total_steps))
    epoch, total_epochs = state.get("epoch"), state.get("total_epochs")
    if epoch is not None and total_epochs:
        return _clamp(float(epoch) / float(total_epochs))
    percent = state.get("percent")
    if percent is not None:
        return _clamp(float(percent) / 100)
    return None


def _clamp(fraction: float) -> float:
    return min(1.0, max(0.0, fraction))


class ProgressReporter:
    """Records progress cheaply and writes it into the status, throttled, from a thread."""

    def __init__(
        self,
        writer: StatusWriter,
        *,
        interval: float,
        history_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._writer = writer
        self._interval = interval
        self._clock = clock
        self._wall_clock = wall_clock
        self._history = MetricHistoryRecorder()
        self._history_interval = (
            interval * HISTORY_INTERVAL_FACTOR if history_interval is None else history_interval
        )
        self._history_not_before = 0.0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._state: dict[str, Any] = {}
        self._version = 0
        self._written_version = 0
        self._not_before = 0.0
        self._failures = 0
        self._disabled = False
        self._started_at = clock()
        self._start_fraction: float | None = None
        self._thread: threading.Thread | None = None
        self.writes = 0
        """Successful status writes so far (progress, checkpoint and results)."""
        self.failed_writes = 0
        self.last_error: StatusWriteError | None = None
        """Why the last failed write failed (the API server's own words when it answered)."""

    @property
    def disabled(self) -> bool:
        """True once the AIJob is gone or replaced: later reports are dropped."""
        return self._disabled

    def start(self) -> ProgressReporter:
        """Start the background writer (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="aijob-progress", daemon=True)
            self._thread.start()
        return self

    def report(
        self,
        *,
        epoch: int | None = None,
        total_epochs: int | None = None,
        step: int | None = None,
        total_steps: int | None = None,
        metrics: Mapping[str, Any] | None = None,
        percent: float | None = None,
        stage: str | None = None,
    ) -> None:
        """Record the latest progress; values left out keep their previous value."""
        now = self._clock()
        with self._lock:
            state = self._state
            if epoch is not None:
                state["epoch"] = epoch
            if total_epochs is not None:
                state["total_epochs"] = total_epochs
            if step is not None:
                state["step"] = step
            if total_steps is not None:
                state["total_steps"] = total_steps
            if percent is not None:
                state["percent"] = percent
            if stage is not None:
                state["stage"] = stage
            if metrics:
                state["metrics"] = dict(metrics)
                self._history.add_report(
                    state["metrics"],
                    step=state.get("step"),
                    epoch=state.get("epoch"),
                    time=self._wall_clock(),
                )
            state["sampled_at"] = now
            if self._start_fraction is None and _fraction(state) is not None:
                self._start_fraction = _fraction(state)
                self._started_at = now
            self._version += 1
        if not self._wake.is_set():
            self._wake.set()

    def resume_history(self, history: MetricHistory | None) -> bool:
        """Continue the metric history a previous attempt left in the status (before reports)."""
        with self._lock:
            return self._history.resume(history)

    def history(self) -> MetricHistory | None:
        """The metric history as it would be written now."""
        with self._lock:
            return self._history.snapshot()

    def _history_due(self, *, force: bool) -> tuple[int, dict[str, Any]] | None:
        """The history's version and wire form when it changed (and, unless forced, is due)."""
        with self._lock:
            if not self._history.changed or (
                not force and self._clock() < self._history_not_before
            ):
                return None
            history, version = self._history.snapshot(), self._history.version
        if history is None:
            return None
        return version, history.model_dump(mode="json", by_alias=True, exclude_none=True)

    def _history_wait(self) -> float | None:
        """Seconds until a changed history is due (None: nothing to write, or no more writes)."""
        with self._lock:
            if self._disabled or not self._history.changed:
                return None
        return max(0.0, self._history_not_before - self._clock())

    def _mark_history_written(self, version: int) -> None:
        with self._lock:
            self._history.mark_written(version)
        self._history_not_before = self._clock() + self._history_interval

    def snapshot(self) -> Progress:
        """The progress as it would be written now."""
        with self._lock:
            state = dict(self._state)
            start_fraction = self._start_fraction
            started_at = self._started_at
        return build_progress(
            state, started_at=started_at, start_fraction=start_fraction, now=datetime.now(UTC)
        )

    def write_now(
        self,
        patch: Mapping[str, Any] | None = None,
        *,
        with_progress: bool = True,
        deadline_seconds: float = SYNC_WRITE_DEADLINE_SECONDS,
    ) -> bool:
        """Write `patch` (plus the latest progress) now, retrying until the deadline.

        Used for what must not wait for the throttle: a checkpoint, the results,
        the final progress. Returns whether the write landed; a write the API server
        refuses is not retried (`last_error` says why). Only the worker's share
        of the status (`aijob_api.status.WORKER_STATUS_FIELDS`) may be written: the
        rest is the operator's, and a patch naming it is a bug (ValueError).
        """
        body: dict[str, Any] = dict(patch or {})
        foreign = sorted(set(body) - WORKER_WIRE_FIELDS)
        if foreign:
            raise ValueError(f"status fields {foreign} are not the worker's to write")
        with self._lock:
            version = self._version
        if with_progress and version:
            body["progress"] = self.snapshot().model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        history = self._history_due(force=True) if with_progress else None
        if history is not None:
            body[HISTORY_FIELD] = history[1]
        if not body:
            return True
        deadline = self._clock() + deadline_seconds
        failures = 0
        while not self._disabled:
            error = self._attempt(body)
            if error is None:
                if with_progress:
                    self._mark_written(version)
                if history is not None:
                    self._mark_history_written(history[0])
                return True
            if not error.retryable:
                break
            failures += 1
            remaining = deadline - self._clock()
            if remaining <= 0 or self._disabled:
                break
            time.sleep(min(remaining, _retry_delay(failures, error)))
        logger.warning("status write given up", extra={"fields": sorted(body)})
        return False

    def close(self, *, final: bool = True, stage: str | None = None) -> bool:
        """Stop the background writer; with `final`, write the last snapshot synchronously."""
        if stage is not None:
            self.report(stage=stage)
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=SYNC_WRITE_DEADLINE_SECONDS)
            self._thread = None
        if final:
            return self.write_now()
        return True

    def _mark_written(self, version: int) -> None:
        with self._lock:
            self._written_version = max(self._written_version, version)
        self._not_before = self._clock() + self._interval

    def _attempt(self, body: Mapping[str, Any]) -> StatusWriteError | None:
        """Write once; None when it landed, else why not (also kept in `last_error`)."""
        with self._write_lock:
            try:
                self._writer.patch_status(body)
            except StatusWriteError as error:
                self.failed_writes += 1
                self.last_error = error
                if error.permanent:
                    self._disabled = True
                    logger.warning("status writes stopped: %s", error)
                elif error.refused:
                    logger.warning(
                        "status write refused: %s", error, extra={"fields": sorted(body)}
                    )
                else:
                    logger.info("status write failed: %s", error)
                return error
            except Exception as error:  # a writer bug must never kill the training
                self.failed_writes += 1
                logger.exception("status write failed unexpectedly")
                self.last_error = StatusWriteError(
                    f"{type(error).__name__}: {error}", retryable=True
                )
                return self.last_error
        self.writes += 1
        return None

    def _run(self) -> None:
        while not self._closing.is_set():
            self._wake.wait(timeout=self._history_wait())
            if self._closing.is_set():
                return
            delay = self._not_before - self._clock()
            if delay > 0 and self._closing.wait(delay):
                return
            self._wake.clear()
            with self._lock:
                version = self._version
                pending = version != self._written_version
            history = None if self._disabled else self._history_due(force=False)
            if (not pending and history is None) or self._disabled:
                continue
            body: dict[str, Any] = {}
            if pending:
                body["progress"] = self.snapshot().model_dump(
                    mode="json", by_alias=True, exclude_none=True
                )
            if history is not None:
                body[HISTORY_FIELD] = history[1]
            error = self._attempt(body)
            if error is None or error.refused:  # a refused snapshot is dropped, not retried
                self._failures = 0
                self._mark_written(version)
                if history is not None:
                    self._mark_history_written(history[0])
            elif self.disabled:
                return
            else:
                self._failures += 1
                self._not_before = self._clock() + _retry_delay(self._failures, error)
                self._wake.set()
