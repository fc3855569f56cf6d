"""Each metric's series for `status.metricHistory`, downsampled to a bounded size.

The rule, for one series of at most `capacity` points (200 in a job):

- The first point and the latest point are kept as reported.
- The points between them are grouped into buckets `bucket_width` wide in x, counted
  from the first point's x (`(x - first x) // width`). A bucket keeps at most two
  points: its lowest value and its highest value (the earlier one on a tie), in
  x order; a third point arriving in a bucket (the latest point becoming an
  inner one) leaves only those two.
- When the series holds more than `capacity` points, the width doubles: neighbouring
  buckets merge, each keeping its lowest and highest point, until it fits.

What follows: every kept point is a value that was reported, at its own x and time
(nothing is averaged or invented); the lowest and the highest value ever reported
stay in the series, whatever its length (at every merge they are their bucket's
lowest or highest, and the first and latest points are never merged); the
resolution is the same all along x (one width for every bucket); a spike or a dip
is never smoothed away. Values are rounded to `SIGNIFICANT_DIGITS` significant digits
when recorded, so the rule works on the numbers the status holds.

x is the run's global step when the report has one, else its epoch, else the
report's number (`MetricAxis`), fixed for a series by its first point. A report at
the latest point's x replaces that point; a report at a lower x (an attempt resumed
from a checkpoint repeats the steps after it) first drops the points from that x on,
so the series describes the run that produced the model. A series resumes from the
status after a restart (`MetricHistoryRecorder.resume`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aijob_api.metric_history import (
    MAX_METRIC_NAME_LENGTH,
    MAX_POINTS,
    MAX_SERIES,
    SIGNIFICANT_DIGITS,
    MetricAxis,
    MetricHistory,
    MetricSeries,
)

MIN_CAPACITY = 4
"""The first, the latest, and one bucket's two points: the least a series can be cut to."""
MAX_PENDING_REPORTS = 256
"""Reports held raw before they are folded into the series (see `MetricHistoryRecorder`)."""


def rounded(value: float) -> float:
    """The value as stored: `SIGNIFICANT_DIGITS` significant digits."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


@dataclass
class SeriesBuffer:
    """One metric's kept points (x strictly increasing) and the downsampling rule."""

    name: str
    axis: MetricAxis
    capacity: int = MAX_POINTS
    width: int = 1
    xs: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    """Unix time of each point."""

    def __post_init__(self) -> None:
        if self.capacity < MIN_CAPACITY:
            raise ValueError(f"a series keeps at least {MIN_CAPACITY} points, not {self.capacity}")
        if self.width < 1:
            raise ValueError(f"bucket width must be at least 1, not {self.width}")
        if len(self.xs) > self.capacity:
            self._compact()

    def __len__(self) -> int:
        return len(self.xs)

    def add(self, x: int, value: float, time: float) -> None:
        """Record one report (value already rounded), downsampling as the rule says."""
        if self.xs and x <= self.xs[-1]:
            if x <= self.xs[0]:
                self.width = 1
                self._keep(range(0))
            else:
                self._keep(range(bisect.bisect_left(self.xs, x)))
        if len(self.xs) >= 2:
            self._demote_last()
        self.xs.append(x)
        self.values.append(value)
        self.times.append(time)
        if len(self.xs) > self.capacity:
            self._compact()

    def _bucket(self, x: int) -> int:
        return (x - self.xs[0]) // self.width

    def _demote_last(self) -> None:
        """The latest point becomes an inner one: its bucket keeps its lowest and highest."""
        last = len(self.xs) - 1
        bucket = self._bucket(self.xs[last])
        start = last
        while start - 1 >= 1 and self._bucket(self.xs[start - 1]) == bucket:
            start -= 1
        members = range(start, last + 1)
        if len(members) < 2:
            return
        kept = self._extremes(members)
        self._keep([*range(start), *kept])

    def _compact(self) -> None:
        """Double the bucket width until the series fits its capacity."""
        while len(self.xs) > self.capacity:
            self.width *= 2
            last = len(self.xs) - 1
            kept = [0]
            group: list[int] = []
            for index in range(1, last):
                if group and self._bucket(self.xs[index]) != self._bucket(self.xs[group[0]]):
                    kept += self._extremes(group)
                    group = []
                group.append(index)
            kept += self._extremes(group)
            kept.append(last)
            self._keep(kept)

    def _extremes(self, indices: Iterable[int]) -> list[int]:
        """The indices of the lowest and the highest value (earliest on ties), in x order."""
        members = list(indices)
        if not members:
            return []
        low = high = members[0]
        for index in members[1:]:
            if self.values[index] < self.values[low]:
                low = index
            if self.values[index] > self.values[high]:
                high = index
        return sorted({low, high})

    def _keep(self, indices: Iterable[int]) -> None:
        chosen = list(indices)
        self.xs = [self.xs[i] for i in chosen]
        self.values = [self.values[i] for i in chosen]
        self.times = [self.times[i] for i in chosen]

    def to_series(self, started_at: float) -> MetricSeries:
        """The wire form; times become seconds after `started_at`, to a tenth."""
        return MetricSeries(
            name=self.name,
            axis=self.axis,
            bucket_width=self.width,
            x=list(self.xs),
            values=list(self.values),
            seconds=[max(0.0, round(time - started_at, 1)) for time in self.times],
        )


@dataclass(frozen=True)
class _Report:
    metrics: Mapping[str, Any]
    step: int | None
    epoch: int | None
    time: float


class MetricHistoryRecorder:
    """The job's series: reports are recorded cheaply, folded in later, dumped for the status.

    `add_report` only keeps the raw report (the training loop's thread must not pay
    for converting tensors); `fold` (run from the writer's thread, or by `add_report`
    itself once `MAX_PENDING_REPORTS` wait) turns them into points. Not thread-safe:
    the progress reporter calls it under its lock.
    """

    def __init__(self, *, max_series: int = MAX_SERIES, capacity: int = MAX_POINTS) -> None:
        self._max_series = max_series
        self._capacity = capacity
        self._series: dict[str, SeriesBuffer] = {}
        self._pending: list[_Report] = []
        self._started_at: float | None = None
        self.version = 0
        """Bumped by every report that changed a series."""
        self._written_version = 0
        self.left_out: set[str] = set()
        """Metric names not kept (over the series limit, or too long a name)."""

    @property
    def recorded(self) -> bool:
        """Whether any report reached the recorder (held or folded)."""
        return bool(self._series or self._pending)

    @property
    def changed(self) -> bool:
        """Whether reports arrived since the version last marked written (folds them in)."""
        self.fold()
        return self.version != self._written_version

    def mark_written(self, version: int) -> None:
        """The status now holds the history of `version`."""
        self._written_version = max(self._written_version, version)

    def resume(self, history: MetricHistory | None) -> bool:
        """Start from the history a previous attempt left in the status (before any report)."""
        if history is None or self.recorded:
            return False
        started = history.started_at.timestamp()
        self._started_at = started
        for series in history.series[: self._max_series]:
            self._series[series.name] = SeriesBuffer(
                name=series.name,
                axis=series.axis,
                capacity=self._capacity,
                width=series.bucket_width,
                xs=list(series.x),
                values=list(series.values),
                times=[started + offset for offset in series.seconds],
            )
        return True

    def add_report(
        self, metrics: Mapping[str, Any], *, step: int | None, epoch: int | None, time: float
    ) -> None:
        """Keep a report's metrics (as the loop passed them) with its step, epoch and time."""
        self._pending.append(_Report(metrics, step, epoch, time))
        if len(self._pending) >= MAX_PENDING_REPORTS:
            self.fold()

    def fold(self) -> None:
        """Turn the reports held so far into points."""
        pending, self._pending = self._pending, []
        for report in pending:
            self._record(report)

    def _record(self, report: _Report) -> None:
        changed = False
        for name, raw in report.metrics.items():
            value = _number(raw)
            series = self._series_for(str(name), report) if value is not None else None
            if value is None or series is None:
                continue
            x = _x_for(series, report)
            if x is None:
                continue
            if self._started_at is None:
                self._started_at = report.time
            series.add(x, rounded(value), report.time)
            self._series.setdefault(series.name, series)
            changed = True
        if changed:
            self.version += 1

    def _series_for(self, name: str, report: _Report) -> SeriesBuffer | None:
        """The series of `name`, or a new one (kept once it has a point), or None: left out."""
        series = self._series.get(name)
        if series is not None:
            return series
        if len(self._series) >= self._max_series or len(name) > MAX_METRIC_NAME_LENGTH:
            self.left_out.add(name)
            return None
        if report.step is not None:
            axis = MetricAxis.STEP
        elif report.epoch is not None:
            axis = MetricAxis.EPOCH
        else:
            axis = MetricAxis.REPORT
        return SeriesBuffer(name=name, axis=axis, capacity=self._capacity)

    def snapshot(self) -> MetricHistory | None:
        """The history as the status holds it (held reports folded first); None when empty."""
        self.fold()
        if self._started_at is None or not self._series:
            return None
        started = self._started_at
        return MetricHistory(
            started_at=datetime.fromtimestamp(started, UTC),
            series=[series.to_series(started) for series in self._series.values()],
        )


def _x_for(series: SeriesBuffer, report: _Report) -> int | None:
    """The report's x on the series' axis (None: the report has no such whole number >= 0)."""
    if series.axis is MetricAxis.REPORT:
        return series.xs[-1] + 1 if series.xs else 1
    raw = report.step if series.axis is MetricAxis.STEP else report.epoch
    if raw is None:
        return None
    try:
        x = int(raw)
    except (TypeError, ValueError):
        return None
    return x if x >= 0 and x == raw else None


def _number(raw: Any) -> float | None:
    """A finite float, or None (numpy and tensor scalars become floats)."""
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
