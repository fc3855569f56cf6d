"""Metric curves as text: sparklines, `aijob metrics` tables, and `aijob watch` on and off a
terminal."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from aijob_cli.curves import (
    BLOCKS,
    NAME_WIDTH,
    Curve,
    curve_line,
    curves_from_status,
    curves_from_view,
    metrics_table,
    points_table,
    sparkline,
)
from aijob_cli.exitcodes import ExitCode
from aijob_cli.watch import watch
from rich.console import Console

LOSS_X = [8, 16, 24, 32, 40, 48, 56, 64]
LOSS_VALUES = [2.31, 1.5, 1.2, 0.9, 0.75, 0.61, 0.5, 0.42]
STATUS_HISTORY = {
    "startedAt": "2025-05-01T10:00:00Z",
    "series": [
        {
            "name": "loss",
            "axis": "step",
            "bucketWidth": 1,
            "x": LOSS_X,
            "values": LOSS_VALUES,
            "seconds": [float(i) for i in range(8)],
        },
        {
            "name": "accuracy",
            "axis": "epoch",
            "bucketWidth": 1,
            "x": [1, 2],
            "values": [0.5, 0.93],
            "seconds": [3.0, 7.0],
        },
    ],
}


def point(x: int, value: float) -> dict[str, Any]:
    return {"x": x, "value": value, "time": f"2025-05-01T10:00:{x % 60:02d}Z"}


VIEW: dict[str, Any] = {
    "name": "curves",
    "namespace": "demo",
    "phase": "Running",
    "startedAt": "2025-05-01T10:00:00Z",
    "series": [
        {
            "name": "loss",
            "axis": "step",
            "bucketWidth": 1,
            "points": [point(x, v) for x, v in zip(LOSS_X, LOSS_VALUES, strict=True)],
            "min": 0.42,
            "max": 2.31,
            "last": point(64, 0.42),
        },
        {
            "name": "accuracy",
            "axis": "epoch",
            "bucketWidth": 1,
            "points": [point(1, 0.5), point(2, 0.93)],
            "min": 0.5,
            "max": 0.93,
            "last": point(2, 0.93),
        },
    ],
}


def test_both_sources_give_the_same_curves() -> None:
    from_status = curves_from_status({"metricHistory": STATUS_HISTORY})
    assert from_status == curves_from_view(VIEW)
    assert from_status[0] == Curve("loss", "step", tuple(zip(LOSS_X, LOSS_VALUES, strict=True)))
    assert curves_from_status({}) == []
    assert curves_from_view({"series": []}) == []


def test_a_falling_curve_falls_from_the_top_block_to_the_bottom_one() -> None:
    line = sparkline(list(zip(LOSS_X, LOSS_VALUES, strict=True)), 8)
    assert len(line) == 8
    assert line[0] == BLOCKS[-1]
    assert line[-1] == BLOCKS[0]
    levels = [BLOCKS.index(block) for block in line]
    assert levels == sorted(levels, reverse=True)


def test_columns_spread_x_and_hold_the_last_level_where_no_point_falls() -> None:
    line = sparkline([(0, 0.0), (10, 0.0), (100, 1.0)], 10)
    assert line == BLOCKS[0] * 2 + BLOCKS[-1], "one column per point at most"
    spread = sparkline([(x, 0.0) for x in range(9)] + [(100, 1.0)], 10)
    assert spread == BLOCKS[0] * 9 + BLOCKS[-1], "columns without a point hold the level before"
    assert len(sparkline([(x, float(x)) for x in range(500)], 200)) == 60
    many = [(x, float(x % 2)) for x in range(1000)]
    assert set(sparkline(many, 20)) <= {BLOCKS[3], BLOCKS[4]}, "each column: its mean"


@pytest.mark.parametrize(
    ("points", "width", "expected"),
    [
        ([], 10, ""),
        ([(5, 1.0)], 10, BLOCKS[4]),
        ([(1, 0.5), (2, 0.5), (3, 0.5)], 3, BLOCKS[4] * 3),
        ([(1, 0.0), (2, 1.0)], 0, ""),
    ],
)
def test_sparkline_edges(points: list[tuple[int, float]], width: int, expected: str) -> None:
    assert sparkline(points, width) == expected


def test_a_curve_line_names_the_latest_value_and_the_extremes_within_the_width() -> None:
    (loss, _) = curves_from_status({"metricHistory": STATUS_HISTORY})
    line = curve_line(loss, 80)
    assert line.startswith("loss".ljust(NAME_WIDTH) + " " + BLOCKS[-1])
    assert line.endswith(" 0.42 at step 64  (min 0.42, max 2.31)")
    assert len(line) == NAME_WIDTH + 1 + 8 + len(" 0.42 at step 64  (min 0.42, max 2.31)")
    long = Curve("eval_samples_per_second", "step", ((1, 2.0),))
    assert curve_line(long, 80).startswith("eval_samples_…")


def render(renderable: Any, width: int = 100) -> str:
    output = io.StringIO()
    Console(file=output, width=width, color_system=None).print(renderable)
    return output.getvalue()


def test_the_metrics_table_has_a_row_per_series() -> None:
    text = render(metrics_table(VIEW, 100))
    assert "curves: Running" in text
    rows = [line for line in text.splitlines() if "loss" in line or "accuracy" in line]
    assert len(rows) == 2
    loss_row = rows[0]
    for cell in ("step", " 8 ", "0.42 @ 64", "2.31"):
        assert cell in loss_row
    assert BLOCKS[-1] in loss_row
    assert BLOCKS[0] in loss_row


def test_the_points_table_lists_every_point() -> None:
    text = render(points_table(VIEW, "accuracy"))
    assert "EPOCH" in text
    assert "0.93" in text
    assert "2025-05-01T10:00:02Z" in text


def jobs(*statuses: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for status in statuses:
        yield {"name": "curves", "status": status}


RUNNING: dict[str, Any] = {
    "phase": "Running",
    "progress": {"percent": 40, "epoch": 2, "totalEpochs": 5, "metrics": {"loss": 0.9}},
}
GROWN: dict[str, Any] = {
    **RUNNING,
    "progress": {**RUNNING["progress"], "percent": 80, "metrics": {"loss": 0.42}},
    "metricHistory": STATUS_HISTORY,
}
DONE: dict[str, Any] = {**GROWN, "phase": "Succeeded"}


def test_watch_without_a_terminal_prints_lines_then_the_curves() -> None:
    output = io.StringIO()
    console = Console(file=output, width=100, color_system=None)
    assert not console.is_terminal
    polls = jobs(RUNNING, RUNNING, GROWN, DONE)
    code = watch(lambda: next(polls), "curves", console, 0, None)
    assert code == ExitCode.OK
    lines = output.getvalue().splitlines()
    assert lines[0] == "curves Running 40% epoch 2/5 loss 0.9000 ETA -:--:--"
    assert lines[1] == "curves Running 80% epoch 2/5 loss 0.4200 ETA -:--:--"
    assert lines[2] == "curves Succeeded 100% epoch 2/5 loss 0.4200 ETA -:--:--"
    assert lines[3].startswith("loss ")
    assert lines[4].startswith("accuracy ")
    assert lines[5] == "curves: Succeeded"
    assert len(lines) == 6, "an unchanged poll prints nothing"
    assert "\x1b" not in output.getvalue()


def test_watch_without_a_terminal_times_out() -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    assert watch(lambda: {"name": "x", "status": RUNNING}, "x", console, 0, 0) == ExitCode.TIMEOUT


def test_watch_on_a_terminal_draws_the_curves_under_the_bar() -> None:
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=True, color_system=None)
    polls = jobs(RUNNING, GROWN, DONE)
    assert watch(lambda: next(polls), "curves", console, 0, None) == ExitCode.OK
    screen = output.getvalue()
    assert "━" in screen
    assert "loss" in screen
    assert BLOCKS[-1] in screen
    assert BLOCKS[0] in screen
    assert "0.42 at step 64" in screen
    assert "curves: Succeeded" in screen
