"""The progress reporter: throttled, cheap to call, retries, always a final write."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aijob_worker.progress import ProgressReporter, backoff_seconds, build_progress, clean_metrics
from aijob_worker.status import FileStatusWriter, StatusWriteError


class CountingWriter(FileStatusWriter):
    """The real file writer, counting writes, failing the first `failures` with `error`."""

    def __init__(
        self, path: Path, failures: int = 0, error: StatusWriteError | None = None
    ) -> None:
        super().__init__(path)
        self.failures = failures
        self.error = error or StatusWriteError("API server unreachable", retryable=True)
        self.patches: list[dict[str, Any]] = []
        self.attempts = 0
        self.lock = threading.Lock()

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        with self.lock:
            self.attempts += 1
            if self.failures > 0:
                self.failures -= 1
                raise self.error
            self.patches.append(dict(patch))
        super().patch_status(patch)


def wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_many_reports_make_few_writes_and_the_last_one_is_final(tmp_path: Path) -> None:
    writer = CountingWriter(tmp_path / "status.json")
    reporter = ProgressReporter(writer, interval=0.5).start()
    started = time.monotonic()
    for step in range(1, 2001):
        reporter.report(step=step, total_steps=2000, metrics={"loss": 1 / step})
    wait_until(lambda: len(writer.patches) >= 1)
    reporter.close()
    elapsed = time.monotonic() - started
    # At most one write per interval while running, plus the final one.
    assert len(writer.patches) <= int(elapsed / 0.5) + 2
    final = writer.read_status().progress
    assert final is not None
    assert final.step == 2000
    assert final.percent == 100
    assert final.metrics == {"loss": 1 / 2000}


def test_failed_writes_are_retried_until_they_land(tmp_path: Path) -> None:
    writer = CountingWriter(tmp_path / "status.json", failures=3)
    reporter = ProgressReporter(writer, interval=0).start()
    reporter.report(epoch=1, total_epochs=4, metrics={"accuracy": 0.5})
    wait_until(lambda: bool(writer.patches))
    reporter.close(final=False)
    assert writer.attempts >= 4
    assert reporter.failed_writes == 3
    progress = writer.read_status().progress
    assert progress is not None
    assert progress.epoch == 1


def test_a_gone_job_stops_the_writes_without_raising(tmp_path: Path) -> None:
    gone = StatusWriteError("404", retryable=False, permanent=True)
    writer = CountingWriter(tmp_path / "status.json", failures=100, error=gone)
    reporter = ProgressReporter(writer, interval=0).start()
    reporter.report(epoch=1, total_epochs=2)
    wait_until(lambda: reporter.disabled)
    reporter.report(epoch=2, total_epochs=2)
    assert reporter.close() is False
    assert writer.attempts == 1


def test_a_refused_write_is_not_retried_and_says_why(tmp_path: Path) -> None:
    refused = StatusWriteError("API server answered 422 Invalid: too long", retryable=False)
    writer = CountingWriter(tmp_path / "status.json", failures=1, error=refused)
    reporter = ProgressReporter(writer, interval=3600)
    assert reporter.write_now({"results": {"metrics": {}}}, deadline_seconds=600) is False
    assert writer.attempts == 1, "a refusal is final for this write: no 600 s of retries"
    assert reporter.last_error is refused
    assert not reporter.disabled, "later writes may still land"
    assert reporter.write_now({"results": {"metrics": {"a": 1.0}}})
    status = writer.read_status()
    assert status.results is not None
    assert status.results.metrics == {"a": 1.0}


def test_a_refused_progress_snapshot_is_dropped_until_the_next_report(tmp_path: Path) -> None:
    refused = StatusWriteError("API server answered 422 Invalid", retryable=False)
    writer = CountingWriter(tmp_path / "status.json", failures=1, error=refused)
    reporter = ProgressReporter(writer, interval=0).start()
    reporter.report(epoch=1, total_epochs=3)
    wait_until(lambda: writer.attempts >= 1)
    reporter.report(epoch=2, total_epochs=3)
    wait_until(lambda: bool(writer.patches))
    reporter.close(final=False)
    assert writer.attempts == 2, "the refused snapshot was not sent again"
    progress = writer.read_status().progress
    assert progress is not None
    assert progress.epoch == 2


def test_write_now_carries_the_latest_progress(tmp_path: Path) -> None:
    writer = CountingWriter(tmp_path / "status.json")
    reporter = ProgressReporter(writer, interval=3600).start()
    reporter.report(epoch=2, total_epochs=5)
    assert reporter.write_now({"checkpoint": {"uri": "file:///c", "epoch": 2}})
    status = writer.read_status()
    assert status.checkpoint is not None
    assert status.checkpoint.epoch == 2
    assert status.progress is not None
    assert status.progress.percent == 40
    reporter.close(final=False)


@pytest.mark.parametrize("field", ["phase", "message", "attempts", "jobName", "conditions"])
def test_write_now_refuses_the_operators_share_of_the_status(tmp_path: Path, field: str) -> None:
    writer = CountingWriter(tmp_path / "status.json")
    reporter = ProgressReporter(writer, interval=3600)
    with pytest.raises(ValueError, match="not the worker's to write"):
        reporter.write_now({field: "x", "results": {}})
    assert writer.attempts == 0


@pytest.mark.parametrize("field", ["progress", "results", "checkpoint"])
def test_write_now_takes_the_workers_share(tmp_path: Path, field: str) -> None:
    writer = CountingWriter(tmp_path / "status.json")
    reporter = ProgressReporter(writer, interval=3600)
    assert reporter.write_now({field: {}}, with_progress=False)
    assert writer.patches == [{field: {}}]


@pytest.mark.parametrize(
    ("state", "percent"),
    [
        ({"step": 50, "total_steps": 200}, 25),
        ({"epoch": 3, "total_epochs": 4}, 75),
        ({"epoch": 3, "total_epochs": 4, "step": 10, "total_steps": 100}, 10),
        ({"epoch": 5, "total_epochs": 4}, 100),
        ({"percent": 100, "step": 1, "total_steps": 2}, 100),
        ({"stage": "loading"}, None),
    ],
)
def test_percent(state: dict[str, Any], percent: int | None) -> None:
    progress = build_progress(state, started_at=0.0, start_fraction=0.0, now=datetime.now(UTC))
    assert progress.percent == percent


def test_eta_counts_only_this_attempts_pace() -> None:
    # Resumed at 50%: 10 s later at 75%, so 25% more takes about 10 s.
    progress = build_progress(
        {"epoch": 3, "total_epochs": 4, "sampled_at": 110.0},
        started_at=100.0,
        start_fraction=0.5,
        now=datetime.now(UTC),
    )
    assert progress.eta_seconds == pytest.approx(10.0)


def test_metrics_keep_finite_numbers_only() -> None:
    assert clean_metrics({"loss": 0.5, "n": 3, "nan": float("nan"), "name": "x"}) == {
        "loss": 0.5,
        "n": 3.0,
    }


@pytest.mark.parametrize(("failures", "low", "high"), [(1, 0.5, 0.6), (3, 2.0, 2.4), (20, 30, 36)])
def test_backoff_doubles_and_is_capped(failures: int, low: float, high: float) -> None:
    assert low <= backoff_seconds(failures) <= high
