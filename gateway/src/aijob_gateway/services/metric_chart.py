"""A job's metric curves as an SVG chart, drawn here (pure: a `MetricsView` in, text out).

One panel per series, stacked, each with its own y axis (a loss near 2 and a
learning rate near 1e-5 cannot share one), its x axis (step, epoch or report), a
polyline through every kept point and a dot on the latest; a legend on top names
each series in its colour with its latest value. Axis ranges are "nice" numbers
around the data (Heckbert's tick rule), and each panel's `<g>` carries them as
`data-x-min`, `data-x-max`, `data-y-min` and `data-y-max`, with its plot area as a
`<rect class="plot">`, so a reader (or a test) can map every vertex back to its value.
Every text from the job (metric names) is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from aijob_gateway.schemas.metrics import MetricSeriesView, MetricsView

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
)
"""One colour per series (a job keeps at most 8 series)."""
TICKS = 5
"""About this many ticks per axis."""
DEFAULT_WIDTH = 720
DEFAULT_PANEL_HEIGHT = 200
MIN_WIDTH, MAX_WIDTH = 320, 2400
MIN_PANEL_HEIGHT, MAX_PANEL_HEIGHT = 120, 1200
LEGEND_ROW = 20
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 72, 20, 26, 38
FONT = 'font-family="sans-serif" font-size="12"'


@dataclass(frozen=True)
class Axis:
    """A nice range around some data and its ticks."""

    low: float
    high: float
    step: float

    def ticks(self) -> Iterator[float]:
        """The tick values from low to high."""
        count = round((self.high - self.low) / self.step)
        for index in range(count + 1):
            yield self.low + index * self.step


def nice_number(value: float, *, round_it: bool) -> float:
    """1, 2, 5 or 10 times a power of ten, near `value` (rounded) or not below it."""
    exponent = math.floor(math.log10(value))
    fraction = value / 10**exponent
    if round_it:
        nice = 1 if fraction < 1.5 else 2 if fraction < 3 else 5 if fraction < 7 else 10
    else:
        nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return nice * 10.0**exponent


def nice_axis(low: float, high: float, ticks: int = TICKS) -> Axis:
    """A range of whole ticks that holds [low, high] (a single value gets room around it)."""
    if high < low:
        raise ValueError(f"an axis from {low} up to {high}")
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    span = nice_number(high - low, round_it=False)
    step = nice_number(span / max(1, ticks - 1), round_it=True)
    return Axis(math.floor(low / step) * step, math.ceil(high / step) * step, step)


def tick_label(value: float, step: float) -> str:
    """A tick's label: as few digits as its step needs (no -0)."""
    if value == 0 or abs(value) < step * 1e-9:
        return "0"
    if 1e-4 <= abs(value) < 1e6:
        decimals = max(0, -math.floor(math.log10(step)))
        return f"{value:.{decimals}f}"
    return f"{value:.3g}"


def value_label(value: float) -> str:
    """A value as the legend shows it."""
    return f"{value:.4g}"


@dataclass(frozen=True)
class Plot:
    """Where one panel's data is drawn: the plot area in pixels and the axes' ranges."""

    left: float
    top: float
    width: float
    height: float
    x: Axis
    y: Axis

    def px(self, x: float) -> float:
        """The pixel column of an x value."""
        return self.left + (x - self.x.low) / (self.x.high - self.x.low) * self.width

    def py(self, y: float) -> float:
        """The pixel row of a y value (up is higher)."""
        return self.top + (self.y.high - y) / (self.y.high - self.y.low) * self.height


def _n(value: float) -> str:
    return f"{value:.2f}"


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" {FONT}{extra}>{escape(text)}</text>'
    )


def render_chart(
    view: MetricsView, *, width: int = DEFAULT_WIDTH, panel_height: int = DEFAULT_PANEL_HEIGHT
) -> str:
    """The SVG document of a job's curves."""
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise ValueError(f"width must be {MIN_WIDTH} to {MAX_WIDTH}, not {width}")
    if not MIN_PANEL_HEIGHT <= panel_height <= MAX_PANEL_HEIGHT:
        raise ValueError(
            f"panel height must be {MIN_PANEL_HEIGHT} to {MAX_PANEL_HEIGHT}, not {panel_height}"
        )
    legend = LEGEND_ROW * max(1, len(view.series)) + 8
    height = legend + panel_height * max(1, len(view.series))
    title = f"metrics of job {view.name} ({view.phase.value})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if not view.series:
        parts.append(
            _text(width / 2, legend + panel_height / 2, "no metrics reported yet", "middle")
        )
    parts.append('<g class="legend">')
    for index, series in enumerate(view.series):
        parts += _legend_entry(index, series)
    parts.append("</g>")
    for index, series in enumerate(view.series):
        parts += _panel(index, series, width, legend + index * panel_height, panel_height)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _legend_entry(index: int, series: MetricSeriesView) -> list[str]:
    colour = PALETTE[index % len(PALETTE)]
    y = 8 + index * LEGEND_ROW + LEGEND_ROW / 2
    label = (
        f"{series.name}: {value_label(series.last.value)} at {series.axis.value} {series.last.x}"
    )
    return [
        f'<g class="legend-entry" data-series={quoteattr(series.name)}>',
        f'<line x1="{MARGIN_LEFT}" y1="{_n(y)}" x2="{MARGIN_LEFT + 24}" y2="{_n(y)}" '
        f'stroke="{colour}" stroke-width="3"/>',
        _text(MARGIN_LEFT + 32, y + 4, label),
        "</g>",
    ]


def _panel(index: int, series: MetricSeriesView, width: int, top: int, height: int) -> list[str]:
    colour = PALETTE[index % len(PALETTE)]
    xs = [point.x for point in series.points]
    plot = Plot(
        left=MARGIN_LEFT,
        top=top + MARGIN_TOP,
        width=width - MARGIN_LEFT - MARGIN_RIGHT,
        height=height - MARGIN_TOP - MARGIN_BOTTOM,
        x=nice_axis(float(min(xs)), float(max(xs))),
        y=nice_axis(series.min, series.max),
    )
    bottom = plot.top + plot.height
    parts = [
        f'<g class="panel" data-series={quoteattr(series.name)} '
        f'data-x-min="{plot.x.low!r}" data-x-max="{plot.x.high!r}" '
        f'data-y-min="{plot.y.low!r}" data-y-max="{plot.y.high!r}">',
        _text(plot.left, top + MARGIN_TOP - 8, series.name, extra=f' fill="{colour}"'),
        f'<rect class="plot" x="{_n(plot.left)}" y="{_n(plot.top)}" width="{_n(plot.width)}" '
        f'height="{_n(plot.height)}" fill="none" stroke="#888"/>',
        '<g class="x-axis">',
    ]
    for tick in plot.x.ticks():
        px = plot.px(tick)
        parts.append(
            f'<line x1="{_n(px)}" y1="{_n(bottom)}" x2="{_n(px)}" y2="{_n(bottom + 4)}" '
            'stroke="#888"/>'
        )
        parts.append(_text(px, bottom + 16, tick_label(tick, plot.x.step), "middle"))
    parts.append(_text(plot.left + plot.width / 2, bottom + 32, series.axis.value, "middle"))
    parts += ["</g>", '<g class="y-axis">']
    for tick in plot.y.ticks():
        py = plot.py(tick)
        parts.append(
            f'<line x1="{_n(plot.left)}" y1="{_n(py)}" x2="{_n(plot.left + plot.width)}" '
            f'y2="{_n(py)}" stroke="#ddd"/>'
        )
        parts.append(_text(plot.left - 6, py + 4, tick_label(tick, plot.y.step), "end"))
    parts.append("</g>")
    vertices = " ".join(f"{_n(plot.px(p.x))},{_n(plot.py(p.value))}" for p in series.points)
    last = series.last
    parts += [
        f'<polyline class="series" data-series={quoteattr(series.name)} '
        f'points="{vertices}" fill="none" stroke="{colour}" stroke-width="2" '
        'stroke-linejoin="round"/>',
        f'<circle class="last" cx="{_n(plot.px(last.x))}" cy="{_n(plot.py(last.value))}" r="3" '
        f'fill="{colour}"/>',
        "</g>",
    ]
    return parts
