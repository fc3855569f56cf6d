"""The metric history of an AIJob: each metric's series, bounded, in `status.metricHistory`.

The worker records every metric it reports (loss, accuracy, val_*, ...) as points of
(x, value, time), x being the run's global step, else the epoch, else the report's
number (`MetricAxis`), and downsamples each series to at most `MAX_POINTS` points
(`aijob_worker.history` holds the rule and its proof). At most `MAX_SERIES` series
are kept, the first names reported; values are kept to `SIGNIFICANT_DIGITS`
significant digits and times to a tenth of a second, so the whole history stays
under `MAX_HISTORY_BYTES` as compact JSON whatever the metrics are.

A series is stored as three parallel arrays (`x`, `values`, `seconds`), which is
about half the size of a list of point objects; the gateway's
`GET /v1/jobs/{name}/metrics` serves it as points.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Final, NamedTuple, Self

from pydantic import ConfigDict, Field, model_validator

from aijob_api.wire import WireModel

MAX_SERIES: Final = 8
"""Series kept per job; metrics first reported after that many names are not kept."""
MAX_POINTS: Final = 200
"""Points kept per series, the first and the last report included."""
MAX_METRIC_NAME_LENGTH: Final = 128
"""The longest metric name kept as a series (longer names are not recorded)."""
SIGNIFICANT_DIGITS: Final = 6
"""Values are stored rounded to this many significant digits."""
MAX_HISTORY_BYTES: Final = 64 * 1024
"""The bound on `status.metricHistory` as compact JSON that the limits above guarantee."""


class MetricAxis(StrEnum):
    """What a series' x counts."""

    STEP = "step"
    """The run's global step (batches since the start of the run, across epochs)."""
    EPOCH = "epoch"
    """Epochs completed (1-based)."""
    REPORT = "report"
    """The report's number, when the worker reported neither a step nor an epoch."""


class MetricPoint(NamedTuple):
    """One point of a series, as code reads it (the wire keeps parallel arrays)."""

    x: int
    value: float
    time: datetime


class MetricSeries(WireModel):
    """One metric's points, oldest first, x strictly increasing."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.x.size() == self.values.size() && "
                    "self.x.size() == self.seconds.size()",
                    "message": "x, values and seconds must have the same length",
                }
            ]
        }
    )

    name: Annotated[
        str, Field(description="The metric's name, e.g. loss.", max_length=MAX_METRIC_NAME_LENGTH)
    ]
    axis: Annotated[
        MetricAxis, Field(description="What x counts: step, epoch or report (its number).")
    ]
    bucket_width: Annotated[
        int,
        Field(
            description=(
                "Width, in x, of the buckets that downsampling keeps at most two points of "
                "(the lowest and the highest value); 1 until the series first filled up."
            ),
            ge=1,
        ),
    ] = 1
    x: Annotated[
        list[Annotated[int, Field(ge=0)]],
        Field(description="Each point's step, epoch or report number.", max_length=MAX_POINTS),
    ]
    values: Annotated[
        list[Annotated[float, Field(allow_inf_nan=False)]],
        Field(description="Each point's value.", max_length=MAX_POINTS),
    ]
    seconds: Annotated[
        list[Annotated[float, Field(ge=0)]],
        Field(
            description="When each point was reported: seconds after metricHistory.startedAt.",
            max_length=MAX_POINTS,
        ),
    ]

    @model_validator(mode="after")
    def _parallel_and_increasing(self) -> Self:
        if not len(self.x) == len(self.values) == len(self.seconds):
            raise ValueError("x, values and seconds must have the same length")
        if any(later <= earlier for earlier, later in zip(self.x, self.x[1:], strict=False)):
            raise ValueError("x must be strictly increasing")
        return self

    def points(self, started_at: datetime) -> list[MetricPoint]:
        """The points with their times (`started_at`: the history's time zero)."""
        return [
            MetricPoint(x, value, started_at + timedelta(seconds=offset))
            for x, value, offset in zip(self.x, self.values, self.seconds, strict=True)
        ]


class MetricHistory(WireModel):
    """Every kept metric series of the job, written by the worker."""

    started_at: Annotated[
        datetime, Field(description="Time zero of the series' seconds: the first point's time.")
    ]
    series: Annotated[
        list[MetricSeries],
        Field(
            description="One series per metric name, in the order first reported.",
            max_length=MAX_SERIES,
            json_schema_extra={
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
            },
        ),
    ] = Field(default_factory=list)

    def find(self, name: str) -> MetricSeries | None:
        """The series of one metric, if kept."""
        return next((series for series in self.series if series.name == name), None)
