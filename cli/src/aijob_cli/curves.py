"""A job's metric curves as text: sparklines for `aijob watch`, tables for `aijob metrics`.

Curves come from either place the gateway gives them: a job's `status.metricHistory`
(parallel arrays, what `aijob watch` already polls) or `GET /v1/jobs/{name}/metrics`
(points). A sparkline spreads the x range over its columns (at most one per point, at
most `MAX_SPARK_WIDTH`); a column shows the mean
of the points in it (a column with none repeats the one before), scaled between the
series' lowest and highest value, which the line also prints: the extremes are there
in numbers even where a column's mean softens them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

BLOCKS = "▁▂▃▄▅▆▇█"
"""Eight levels, lowest to highest."""
NAME_WIDTH = 14
"""Columns of a series' name before its sparkline (longer names are cut with …)."""
MIN_SPARK_WIDTH = 8
MAX_SPARK_WIDTH = 60
"""A sparkline has at most this many columns, and no more than it has points."""


@dataclass(frozen=True)
class Curve:
    """One metric's points, oldest first."""

    name: str
    axis: str
    points: tuple[tuple[int, float], ...]

    @property
    def low(self) -> float:
        """The lowest value."""
        return min(value for _, value in self.points)

    @property
    def high(self) -> float:
        """The highest value."""
        return max(value for _, value in self.points)


def curves_from_status(status: dict[str, Any]) -> list[Curve]:
    """The curves in a job's `status.metricHistory` (none when it has no history)."""
    history = status.get("metricHistory") or {}
    return [
        Curve(
            name=str(series["name"]),
            axis=str(series["axis"]),
            points=tuple(zip(series["x"], series["values"], strict=True)),
        )
        for series in history.get("series") or []
        if series.get("x")
    ]


def curves_from_view(view: dict[str, Any]) -> list[Curve]:
    """The curves of a `GET /v1/jobs/{name}/metrics` answer."""
    return [
        Curve(
            name=str(series["name"]),
            axis=str(series["axis"]),
            points=tuple((point["x"], point["value"]) for point in series["points"]),
        )
        for series in view.get("series") or []
        if series.get("points")
    ]


def number(value: float) -> str:
    """A value as the CLI prints it: four significant digits."""
    return f"{value:.4g}"


def sparkline(points: Sequence[tuple[int, float]], width: int) -> str:
    """The points as up to `width` block characters along x (no more than the points)."""
    if not points or width <= 0:
        return ""
    first, last = points[0][0], points[-1][0]
    columns = min(width, len(points), MAX_SPARK_WIDTH)
    sums = [0.0] * columns
    counts = [0] * columns
    span = last - first
    for x, value in points:
        column = 0 if span == 0 else min(columns - 1, (x - first) * columns // span)
        sums[column] += value
        counts[column] += 1
    low = min(value for _, value in points)
    high = max(value for _, value in points)
    line = []
    level = 0
    for total, count in zip(sums, counts, strict=True):
        if count:
            mean = total / count
            scaled = 0.5 if high == low else (mean - low) / (high - low)
            level = min(len(BLOCKS) - 1, max(0, round(scaled * (len(BLOCKS) - 1))))
        line.append(BLOCKS[level])
    return "".join(line)


def _name(name: str) -> str:
    if len(name) <= NAME_WIDTH:
        return name.ljust(NAME_WIDTH)
    return name[: NAME_WIDTH - 1] + "…"


def curve_line(curve: Curve, width: int) -> str:
    """One line: the name, its sparkline, the latest value and the extremes."""
    last_x, last_value = curve.points[-1]
    summary = (
        f" {number(last_value)} at {curve.axis} {last_x}"
        f"  (min {number(curve.low)}, max {number(curve.high)})"
    )
    spark_width = max(MIN_SPARK_WIDTH, width - NAME_WIDTH - 1 - len(summary))
    return f"{_name(curve.name)} {sparkline(curve.points, spark_width)}{summary}"


def curve_lines(curves: Sequence[Curve], width: int) -> list[str]:
    """A line per curve, each at most `width` columns when the width allows."""
    return [curve_line(curve, width) for curve in curves]


def metrics_table(view: dict[str, Any], width: int) -> Table:
    """`aijob metrics NAME`: one row per series with its sparkline."""
    curves = {curve.name: curve for curve in curves_from_view(view)}
    table = Table(title=f"{view['name']}: {view['phase']}", title_justify="left")
    for header in ("SERIES", "AXIS", "POINTS", "LAST", "MIN", "MAX", "CURVE"):
        table.add_column(header, no_wrap=True)
    fixed = 70
    for series in view.get("series") or []:
        curve = curves.get(series["name"])
        last = series["last"]
        table.add_row(
            series["name"],
            series["axis"],
            str(len(series["points"])),
            f"{number(last['value'])} @ {last['x']}",
            number(series["min"]),
            number(series["max"]),
            sparkline(curve.points, max(MIN_SPARK_WIDTH, width - fixed)) if curve else "",
        )
    return table


def points_table(view: dict[str, Any], name: str) -> Table:
    """`aijob metrics NAME --series S`: every kept point of one series."""
    (series,) = [series for series in view["series"] if series["name"] == name]
    table = Table(title=f"{view['name']}: {name}", title_justify="left")
    for header in (series["axis"].upper(), "VALUE", "TIME"):
        table.add_column(header, no_wrap=True)
    for point in series["points"]:
        table.add_row(str(point["x"]), repr(point["value"]), str(point["time"]))
    return table
