"""Body of GET /v1/jobs/{name}/metrics: a job's metric series (`status.metricHistory`) as points."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from aijob_api.conditions import Phase
from aijob_api.metric_history import MetricAxis, MetricSeries
from aijob_api.models import AIJob
from pydantic import Field

from aijob_gateway.errors import NotFoundError
from aijob_gateway.schemas.base import ApiModel


class MetricPointView(ApiModel):
    """One reported value."""

    x: Annotated[int, Field(description="The step, epoch or report number (see `axis`).")]
    value: float
    time: Annotated[datetime, Field(description="When the worker reported it.")]


class MetricSeriesView(ApiModel):
    """One metric's curve, oldest point first."""

    name: str
    axis: Annotated[MetricAxis, Field(description="What x counts: step, epoch or report.")]
    bucket_width: Annotated[
        int, Field(description="The downsampling width in x (1: every report is kept).")
    ]
    points: list[MetricPointView]
    min: Annotated[float, Field(description="The lowest value reported (always kept).")]
    max: Annotated[float, Field(description="The highest value reported (always kept).")]
    last: Annotated[MetricPointView, Field(description="The latest point.")]

    @classmethod
    def of(cls, series: MetricSeries, started_at: datetime) -> MetricSeriesView:
        """The view of a stored series (which holds at least one point)."""
        points = [
            MetricPointView(x=point.x, value=point.value, time=point.time)
            for point in series.points(started_at)
        ]
        return cls(
            name=series.name,
            axis=series.axis,
            bucket_width=series.bucket_width,
            points=points,
            min=min(series.values),
            max=max(series.values),
            last=points[-1],
        )


class MetricsView(ApiModel):
    """A job's metric series, as its worker recorded them (bounded, downsampled)."""

    name: str
    namespace: str
    phase: Phase
    started_at: Annotated[
        datetime | None, Field(description="When the first metric was reported.")
    ] = None
    series: Annotated[
        list[MetricSeriesView],
        Field(description="One per metric, in the order first reported; empty before any."),
    ]

    @classmethod
    def of(cls, job: AIJob, names: Sequence[str] = ()) -> MetricsView:
        """The view of a job's history; `names` keeps only those series (404 for one unknown)."""
        history = job.status.metric_history
        stored = [series for series in history.series if series.x] if history else []
        if names:
            known = {series.name: series for series in stored}
            missing = [name for name in names if name not in known]
            if missing:
                raise NotFoundError(
                    f"job {job.metadata.name!r} has no metric series named {missing[0]!r} "
                    f"(it has: {', '.join(known) or 'none yet'})",
                    field="series",
                )
            stored = [known[name] for name in dict.fromkeys(names)]
        return cls(
            name=job.metadata.name or "",
            namespace=job.metadata.namespace or "",
            phase=job.status.phase or Phase.PENDING,
            started_at=history.started_at if history else None,
            series=[
                MetricSeriesView.of(series, history.started_at)
                for series in stored
                if history is not None
            ],
        )
