"""The metric history's wire model: parallel arrays, x increasing, finite values, the bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aijob_api.metric_history import MAX_POINTS, MAX_SERIES, MetricAxis, MetricHistory
from aijob_api.models import AIJobStatus
from pydantic import ValidationError

STARTED = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)


def series(**change: Any) -> dict[str, Any]:
    return {
        "name": "loss",
        "axis": "step",
        "x": [8, 16, 24],
        "values": [1.5, 0.75, 0.5],
        "seconds": [0.0, 2.5, 5.0],
        **change,
    }


def history(*items: dict[str, Any]) -> dict[str, Any]:
    return {"startedAt": STARTED.isoformat(), "series": list(items)}


def test_a_history_parses_from_the_status_and_gives_its_points() -> None:
    status = AIJobStatus.model_validate({"metricHistory": history(series())})
    assert status.metric_history is not None
    loss = status.metric_history.find("loss")
    assert loss is not None
    assert loss.axis is MetricAxis.STEP
    assert loss.bucket_width == 1
    assert loss.points(STARTED)[1] == (16, 0.75, STARTED + timedelta(seconds=2.5))
    assert status.metric_history.find("accuracy") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"values": [1.0, 2.0]}, "x, values and seconds must have the same length"),
        ({"seconds": [0.0]}, "x, values and seconds must have the same length"),
        ({"x": [8, 8, 24]}, "x must be strictly increasing"),
        ({"x": [8, 4, 24]}, "x must be strictly increasing"),
        ({"x": [-1, 4, 24]}, "greater than or equal to 0"),
        ({"seconds": [0.0, -1.0, 2.0]}, "greater than or equal to 0"),
        ({"values": [1.0, float("inf"), 2.0]}, "finite number"),
        ({"axis": "minute"}, "'step', 'epoch' or 'report'"),
        ({"bucketWidth": 0}, "greater than or equal to 1"),
        ({"name": "n" * 129}, "at most 128 characters"),
        (
            {
                "x": list(range(MAX_POINTS + 1)),
                "values": [0.0] * (MAX_POINTS + 1),
                "seconds": [0.0] * (MAX_POINTS + 1),
            },
            "at most 200 items",
        ),
    ],
)
def test_a_bad_series_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MetricHistory.model_validate(history(series(**change)))


def test_at_most_eight_series() -> None:
    many = [series(name=f"m{i}") for i in range(MAX_SERIES + 1)]
    with pytest.raises(ValidationError, match="at most 8 items"):
        MetricHistory.model_validate(history(*many))
    assert len(MetricHistory.model_validate(history(*many[:MAX_SERIES])).series) == MAX_SERIES
