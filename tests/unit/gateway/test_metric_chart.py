"""The metrics view and its SVG chart: parsed back, every vertex maps to its value."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from aijob_gateway.errors import NotFoundError
from aijob_gateway.schemas.jobs import JobView
from aijob_gateway.schemas.metrics import MetricsView
from aijob_gateway.services.metric_chart import (
    PALETTE,
    nice_axis,
    render_chart,
    tick_label,
)

from tests.unit.gateway.factories import BASE_TIME, make_job

SVG = "{http://www.w3.org/2000/svg}"


def history(*series: dict[str, Any]) -> dict[str, Any]:
    return {"metricHistory": {"startedAt": BASE_TIME.isoformat(), "series": list(series)}}


LOSS: dict[str, Any] = {
    "name": "loss",
    "axis": "step",
    "bucketWidth": 2,
    "x": [8, 16, 24, 40, 41, 64],
    "values": [2.31, 1.2, 1.35, 0.61, 0.9, 0.42],
    "seconds": [0.0, 1.5, 3.0, 4.5, 4.6, 7.0],
}
ACCURACY: dict[str, Any] = {
    "name": "accuracy",
    "axis": "epoch",
    "x": [1, 2, 3],
    "values": [0.5, 0.81, 0.93],
    "seconds": [2.0, 4.0, 7.0],
}
LEARNING_RATE: dict[str, Any] = {
    "name": "learning_rate",
    "axis": "step",
    "x": [10, 20, 30],
    "values": [5e-05, 3e-05, 1e-05],
    "seconds": [1.0, 2.0, 3.0],
}


def view(
    *series: dict[str, Any], phase: str = "Running", names: tuple[str, ...] = ()
) -> MetricsView:
    job = make_job("curves", status={"phase": phase, **history(*series)})
    return MetricsView.of(job, names)


def test_the_view_gives_points_with_times_and_the_extremes() -> None:
    metrics = view(LOSS, ACCURACY)
    assert [series.name for series in metrics.series] == ["loss", "accuracy"]
    loss = metrics.series[0]
    assert [(p.x, p.value) for p in loss.points] == list(
        zip(LOSS["x"], LOSS["values"], strict=True)
    )
    assert loss.points[3].time == BASE_TIME + timedelta(seconds=4.5)
    assert (loss.min, loss.max, loss.last.value, loss.last.x) == (0.42, 2.31, 0.42, 64)
    assert loss.bucket_width == 2
    assert metrics.started_at == BASE_TIME


def test_a_job_without_metrics_has_no_series() -> None:
    metrics = MetricsView.of(make_job("quiet"))
    assert metrics.series == []
    assert metrics.started_at is None
    assert metrics.phase.value == "Pending"


def test_series_can_be_chosen_and_an_unknown_one_is_named() -> None:
    assert [s.name for s in view(LOSS, ACCURACY, names=("accuracy",)).series] == ["accuracy"]
    with pytest.raises(NotFoundError, match="no metric series named 'val_loss'") as missing:
        view(LOSS, ACCURACY, names=("loss", "val_loss"))
    assert missing.value.field == "series"
    assert "it has: loss, accuracy" in missing.value.detail


def test_lists_leave_the_history_out_and_a_job_view_keeps_it() -> None:
    job = make_job("curves", status=history(LOSS))
    assert JobView.of(job).status.metric_history is not None
    assert JobView.of(job, metric_history=False).status.metric_history is None
    assert job.status.metric_history is not None, "the cached job is left alone"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def panel_of(root: ET.Element, name: str) -> ET.Element:
    panels = [g for g in root.iter(f"{SVG}g") if g.get("class") == "panel"]
    (panel,) = [g for g in panels if g.get("data-series") == name]
    return panel


def plot_box(panel: ET.Element) -> tuple[float, float, float, float]:
    (rect,) = [r for r in panel.iter(f"{SVG}rect") if r.get("class") == "plot"]
    return (
        float(rect.get("x", "")),
        float(rect.get("y", "")),
        float(rect.get("width", "")),
        float(rect.get("height", "")),
    )


def ranges(panel: ET.Element) -> tuple[float, float, float, float]:
    return (
        float(panel.get("data-x-min", "")),
        float(panel.get("data-x-max", "")),
        float(panel.get("data-y-min", "")),
        float(panel.get("data-y-max", "")),
    )


def vertices(panel: ET.Element) -> list[tuple[float, float]]:
    (line,) = [p for p in panel.iter(f"{SVG}polyline") if p.get("class") == "series"]
    pairs = [pair.split(",") for pair in (line.get("points") or "").split()]
    return [(float(x), float(y)) for x, y in pairs]


@pytest.mark.parametrize("size", [(720, 200), (320, 120), (2400, 1200)])
def test_every_vertex_maps_back_to_its_point(size: tuple[int, int]) -> None:
    metrics = view(LOSS, ACCURACY, LEARNING_RATE)
    root = parse(render_chart(metrics, width=size[0], panel_height=size[1]))
    assert (root.get("width"), root.get("height")) == (str(size[0]), str(20 * 3 + 8 + 3 * size[1]))
    for series in metrics.series:
        panel = panel_of(root, series.name)
        left, top, width, height = plot_box(panel)
        x_min, x_max, y_min, y_max = ranges(panel)
        assert x_min <= min(p.x for p in series.points)
        assert max(p.x for p in series.points) <= x_max
        assert y_min <= series.min
        assert series.max <= y_max
        drawn = vertices(panel)
        assert len(drawn) == len(series.points)
        for (px, py), point in zip(drawn, series.points, strict=True):
            x = x_min + (px - left) / width * (x_max - x_min)
            y = y_max - (py - top) / height * (y_max - y_min)
            assert x == pytest.approx(point.x, abs=(x_max - x_min) / width * 0.01)
            assert y == pytest.approx(point.value, abs=(y_max - y_min) / height * 0.01)
            assert left <= px <= left + width
            assert top <= py <= top + height


def test_tick_labels_sit_where_their_values_are() -> None:
    root = parse(render_chart(view(LOSS)))
    panel = panel_of(root, "loss")
    left, top, width, height = plot_box(panel)
    x_min, x_max, y_min, y_max = ranges(panel)
    (y_axis,) = [g for g in panel.iter(f"{SVG}g") if g.get("class") == "y-axis"]
    labels = [(float(t.get("y", "")) - 4, float(t.text or "")) for t in y_axis.iter(f"{SVG}text")]
    assert len(labels) >= 3
    assert {value for _, value in labels} >= {y_min, y_max}
    for py, value in labels:
        assert y_max - (py - top) / height * (y_max - y_min) == pytest.approx(value, abs=1e-6)
    (x_axis,) = [g for g in panel.iter(f"{SVG}g") if g.get("class") == "x-axis"]
    texts = list(x_axis.iter(f"{SVG}text"))
    assert texts[-1].text == "step", "the axis is named"
    for text in texts[:-1]:
        px = float(text.get("x", ""))
        assert x_min + (px - left) / width * (x_max - x_min) == pytest.approx(
            float(text.text or "")
        )


def test_the_legend_names_each_series_in_its_colour() -> None:
    root = parse(render_chart(view(LOSS, ACCURACY)))
    entries = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend-entry"]
    assert [entry.get("data-series") for entry in entries] == ["loss", "accuracy"]
    for index, entry in enumerate(entries):
        (swatch,) = entry.iter(f"{SVG}line")
        assert swatch.get("stroke") == PALETTE[index]
        panel = panel_of(root, entry.get("data-series") or "")
        (line,) = list(panel.iter(f"{SVG}polyline"))
        assert line.get("stroke") == PALETTE[index]
    texts = ["".join(entry.itertext()).strip() for entry in entries]
    assert texts == ["loss: 0.42 at step 64", "accuracy: 0.93 at epoch 3"]


def test_names_from_the_job_are_escaped() -> None:
    name = '<script>alert("x")</script>&\'"'
    root = parse(render_chart(view({**ACCURACY, "name": name})))
    assert not list(root.iter(f"{SVG}script"))
    assert panel_of(root, name) is not None
    assert any(text.text == name for text in root.iter(f"{SVG}text"))


def test_a_chart_without_series_says_so() -> None:
    root = parse(render_chart(MetricsView.of(make_job("quiet"))))
    assert "no metrics reported yet" in "".join(root.itertext())
    assert not list(root.iter(f"{SVG}polyline"))


def test_a_single_point_and_a_flat_series_get_room_around_them() -> None:
    flat = {**ACCURACY, "values": [0.5, 0.5, 0.5]}
    single = {**LOSS, "name": "single", "x": [3], "values": [0.0], "seconds": [0.0]}
    root = parse(render_chart(view(flat, single)))
    for name in ("accuracy", "single"):
        x_min, x_max, y_min, y_max = ranges(panel_of(root, name))
        assert x_min < x_max
        assert y_min < y_max
        assert all(math.isfinite(v) for pair in vertices(panel_of(root, name)) for v in pair)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.42, 2.31, (0.0, 2.5, 0.5)),
        (8, 64, (0.0, 80.0, 20.0)),
        (1e-05, 5e-05, (1e-05, 5e-05, 1e-05)),
        (-3.2, 7.9, (-5.0, 10.0, 5.0)),
        (5, 5, (4.4, 5.6, 0.2)),
        (0, 0, (-1.0, 1.0, 0.5)),
    ],
)
def test_nice_axes(low: float, high: float, expected: tuple[float, float, float]) -> None:
    axis = nice_axis(low, high)
    assert (axis.low, axis.high, axis.step) == pytest.approx(expected)
    assert axis.low <= low
    assert high <= axis.high


@pytest.mark.parametrize(
    ("value", "step", "label"),
    [
        (0.5, 0.5, "0.5"),
        (1e-05, 1e-05, "1e-05"),
        (20.0, 20.0, "20"),
        (-1e-17, 0.5, "0"),
        (2.5e6, 5e5, "2.5e+06"),
    ],
)
def test_tick_labels(value: float, step: float, label: str) -> None:
    assert tick_label(value, step) == label


@pytest.mark.parametrize(("width", "height"), [(319, 200), (2401, 200), (720, 119), (720, 1201)])
def test_sizes_out_of_bounds_are_refused(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        render_chart(view(LOSS), width=width, panel_height=height)
