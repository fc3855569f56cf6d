"""The metric history's downsampling rule and recorder, as pure functions of what was reported."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from aijob_api.metric_history import (
    MAX_HISTORY_BYTES,
    MAX_METRIC_NAME_LENGTH,
    MAX_POINTS,
    MAX_SERIES,
    MetricAxis,
    MetricHistory,
)
from aijob_api.status import AIJobStatus

from aijob_worker.history import MetricHistoryRecorder, SeriesBuffer, rounded

T0 = 1_700_000_000.0

Pattern = Callable[[int], float]


def _noisy(seed: int) -> Pattern:
    rng = random.Random(seed)
    table = [rng.gauss(0, 1) for _ in range(20_000)]
    return lambda i: table[i]


PATTERNS: dict[str, Pattern] = {
    "decreasing": lambda i: 2.0 / (1 + i / 50),
    "increasing": lambda i: 1 - 1 / (1 + i),
    "sawtooth": lambda i: float(i % 37),
    "constant": lambda i: 0.5,
    "noisy": _noisy(7),
    "spike": lambda i: 100.0 if i == 4321 else 1.0,
    "dip": lambda i: -100.0 if i == 777 else 1.0,
}


def fill(pattern: Pattern, count: int, capacity: int = MAX_POINTS, stride: int = 1) -> SeriesBuffer:
    series = SeriesBuffer(name="loss", axis=MetricAxis.STEP, capacity=capacity)
    for i in range(count):
        series.add(i * stride, rounded(pattern(i)), T0 + i)
    return series


def reported(pattern: Pattern, count: int, stride: int = 1) -> dict[int, float]:
    return {i * stride: rounded(pattern(i)) for i in range(count)}


def test_a_short_series_is_kept_whole() -> None:
    series = fill(PATTERNS["noisy"], 150)
    assert series.xs == list(range(150))
    assert series.values == [rounded(PATTERNS["noisy"](i)) for i in range(150)]
    assert series.times == [T0 + i for i in range(150)]
    assert series.width == 1


@pytest.mark.parametrize("name", sorted(PATTERNS))
@pytest.mark.parametrize(
    ("count", "capacity", "stride"), [(201, 200, 1), (10_000, 200, 1), (5_000, 16, 3), (999, 4, 10)]
)
def test_the_rule_holds_whatever_was_reported(
    name: str, count: int, capacity: int, stride: int
) -> None:
    pattern = PATTERNS[name]
    if pattern is PATTERNS["spike"] or pattern is PATTERNS["dip"]:
        count = max(count, 5_000)
    series = fill(pattern, count, capacity, stride)
    truth = reported(pattern, count, stride)

    assert len(series) <= capacity
    # The first and the latest report, as reported.
    assert (series.xs[0], series.values[0], series.times[0]) == (0, truth[0], T0)
    last = (count - 1) * stride
    assert (series.xs[-1], series.values[-1]) == (last, truth[last])
    # Every kept point is a report, at its own x and time.
    assert series.xs == sorted(set(series.xs))
    for x, value, time in zip(series.xs, series.values, series.times, strict=True):
        assert truth[x] == value
        assert time == T0 + x // stride
    # The lowest and highest values ever reported are kept.
    assert min(series.values) == min(truth.values())
    assert max(series.values) == max(truth.values())
    # One width for all: a power of two, and at most two inner points per bucket.
    assert series.width & (series.width - 1) == 0
    buckets: dict[int, list[float]] = {}
    for x, value in zip(series.xs[1:-1], series.values[1:-1], strict=True):
        buckets.setdefault(x // series.width, []).append(value)
    assert all(len(values) <= 2 for values in buckets.values())
    # A bucket's points are its lowest and highest reported value.
    for bucket, values in buckets.items():
        inside = [truth[x] for x in truth if x // series.width == bucket and 0 < x < last]
        assert min(values) == min(inside)
        assert max(values) == max(inside)


def test_a_long_decreasing_curve_stays_evenly_spread() -> None:
    series = fill(PATTERNS["decreasing"], 10_000)
    gaps = [b - a for a, b in zip(series.xs[1:-1], series.xs[2:-1], strict=False)]
    # Monotone: each bucket keeps its two ends at most, so no gap exceeds two widths.
    assert max(gaps) <= 2 * series.width
    assert len(series) >= MAX_POINTS // 4


def test_ties_keep_the_earlier_point() -> None:
    series = fill(PATTERNS["constant"], 1000, capacity=8)
    assert series.values == [0.5] * len(series)
    # One point per bucket: the earliest inner report of it (x 0 is the first point).
    assert series.xs[1:-1] == [max(1, x - x % series.width) for x in series.xs[1:-1]]
    assert len({x // series.width for x in series.xs[1:-1]}) == len(series) - 2


def test_a_report_at_the_latest_x_replaces_it() -> None:
    series = fill(PATTERNS["sawtooth"], 10)
    series.add(9, 42.0, T0 + 100)
    assert series.xs == list(range(10))
    assert (series.values[-1], series.times[-1]) == (42.0, T0 + 100)


def test_a_repeated_stretch_replaces_the_points_from_its_start() -> None:
    series = fill(PATTERNS["sawtooth"], 50, stride=10)
    series.add(305, -1.0, T0 + 1000)
    assert series.xs == [*range(0, 310, 10), 305]
    assert series.values[-1] == -1.0
    series.add(0, 3.0, T0 + 2000)
    assert (series.xs, series.values, series.width) == ([0], [3.0], 1)


def test_a_repeated_stretch_after_downsampling_keeps_the_rule() -> None:
    series = fill(PATTERNS["noisy"], 5000, capacity=50)
    width = series.width
    for x in range(2000, 4000):
        series.add(x, rounded(PATTERNS["noisy"](x + 1)), T0 + x)
    assert len(series) <= 50
    assert series.width >= width
    assert series.xs[-1] == 3999
    assert all(x < 4000 for x in series.xs)


def test_a_capacity_below_four_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4 points"):
        SeriesBuffer(name="loss", axis=MetricAxis.STEP, capacity=3)


@pytest.mark.parametrize(
    ("value", "stored"),
    [(0.123456789, 0.123457), (123456789.0, 123457000.0), (-1.5e-12, -1.5e-12), (3.0, 3.0)],
)
def test_values_keep_six_significant_digits(value: float, stored: float) -> None:
    assert rounded(value) == stored


def record(
    recorder: MetricHistoryRecorder,
    metrics: dict[str, object],
    *,
    step: int | None = None,
    epoch: int | None = None,
    time: float = T0,
) -> None:
    recorder.add_report(metrics, step=step, epoch=epoch, time=time)


def test_the_axis_is_the_step_else_the_epoch_else_the_report_number() -> None:
    recorder = MetricHistoryRecorder()
    record(recorder, {"loss": 1.0}, step=10, epoch=1)
    record(recorder, {"accuracy": 0.5}, epoch=1)
    record(recorder, {"reward": 3}, time=T0 + 0.04)
    record(recorder, {"reward": 4}, time=T0 + 2.26)
    history = recorder.snapshot()
    assert history is not None
    axes = {series.name: (series.axis, series.x) for series in history.series}
    assert axes == {
        "loss": (MetricAxis.STEP, [10]),
        "accuracy": (MetricAxis.EPOCH, [1]),
        "reward": (MetricAxis.REPORT, [1, 2]),
    }
    reward = history.find("reward")
    assert reward is not None
    assert reward.seconds == [0.0, 2.3]
    assert history.started_at == datetime.fromtimestamp(T0, UTC)


def test_a_series_keeps_its_axis_and_skips_reports_without_it() -> None:
    recorder = MetricHistoryRecorder()
    record(recorder, {"accuracy": 0.5}, epoch=1)
    record(recorder, {"accuracy": 0.6}, epoch=2, step=200)
    record(recorder, {"accuracy": 0.7}, step=300)
    history = recorder.snapshot()
    assert history is not None
    assert history.series[0].x == [1, 2]


def test_metrics_beyond_the_limits_and_non_numbers_are_left_out() -> None:
    recorder = MetricHistoryRecorder()
    names = [f"m{i}" for i in range(MAX_SERIES + 3)]
    long_name = "x" * (MAX_METRIC_NAME_LENGTH + 1)
    record(
        recorder,
        {**dict.fromkeys(names, 1.0), long_name: 1.0, "text": "n/a", "nan": math.nan},
        step=1,
    )
    history = recorder.snapshot()
    assert history is not None
    assert [series.name for series in history.series] == names[:MAX_SERIES]
    assert recorder.left_out == {*names[MAX_SERIES:], long_name}


def test_nothing_reported_is_no_history() -> None:
    recorder = MetricHistoryRecorder()
    assert recorder.snapshot() is None
    record(recorder, {"text": "n/a"}, step=1)
    assert recorder.snapshot() is None
    assert not recorder.changed


def test_resuming_from_the_status_continues_as_if_never_stopped() -> None:
    pattern = PATTERNS["noisy"]
    whole = MetricHistoryRecorder()
    first = MetricHistoryRecorder()
    for i in range(3000):
        record(whole, {"loss": pattern(i)}, step=i, time=T0 + i)
        record(first, {"loss": pattern(i)}, step=i, time=T0 + i)
    stored = first.snapshot()
    assert stored is not None
    status = AIJobStatus.model_validate(
        json.loads(json.dumps({"metricHistory": stored.model_dump(mode="json", by_alias=True)}))
    )
    second = MetricHistoryRecorder()
    assert second.resume(status.metric_history)
    assert not second.changed, "what the status holds needs no write"
    for i in range(3000, 7000):
        record(whole, {"loss": pattern(i)}, step=i, time=T0 + i)
        record(second, {"loss": pattern(i)}, step=i, time=T0 + i)
    assert second.snapshot() == whole.snapshot()


def test_resume_is_refused_once_reports_arrived() -> None:
    recorder = MetricHistoryRecorder()
    record(recorder, {"loss": 1.0}, step=1)
    other = MetricHistory(started_at=datetime.now(UTC), series=[])
    assert not recorder.resume(other)
    assert not MetricHistoryRecorder().resume(None)


def test_reports_are_held_raw_until_folded() -> None:
    class Scalar:
        converted = 0

        def __float__(self) -> float:
            Scalar.converted += 1
            return 0.25

    recorder = MetricHistoryRecorder()
    for step in range(10):
        record(recorder, {"loss": Scalar()}, step=step)
    assert Scalar.converted == 0, "the training loop's thread converts nothing"
    assert recorder.changed
    assert Scalar.converted == 10


def test_the_worst_case_history_fits_its_bound() -> None:
    recorder = MetricHistoryRecorder()
    names = [f"{i}".rjust(MAX_METRIC_NAME_LENGTH, "m") for i in range(MAX_SERIES)]
    for i in range(MAX_POINTS):
        value = -1.23456789e-123 * (1 + i % 7) if i % 2 else 9.87654321e123 * (1 + i % 5)
        record(
            recorder,
            dict.fromkeys(names, value),
            step=9_999_999_999 - 2 * (MAX_POINTS - i),
            time=T0 + 99_999_999.97 + i,
        )
    history = recorder.snapshot()
    assert history is not None
    assert [len(series.x) for series in history.series] == [MAX_POINTS] * MAX_SERIES
    body = history.model_dump_json(by_alias=True)
    assert len(body.encode()) < MAX_HISTORY_BYTES
