"""/v1/jobs/{name}/metrics: a job's metric series as JSON, and drawn as an SVG chart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from aijob_gateway.dependencies import CallerDep
from aijob_gateway.problems import problem_responses
from aijob_gateway.routers.params import JobName
from aijob_gateway.routers.responses import ModelResponse
from aijob_gateway.schemas.metrics import MetricsView
from aijob_gateway.services.metric_chart import (
    DEFAULT_PANEL_HEIGHT,
    DEFAULT_WIDTH,
    MAX_PANEL_HEIGHT,
    MAX_WIDTH,
    MIN_PANEL_HEIGHT,
    MIN_WIDTH,
    render_chart,
)

router = APIRouter(
    prefix="/v1/jobs",
    tags=["jobs"],
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)

SeriesFilter = Annotated[
    list[str] | None,
    Query(
        alias="series",
        description="Only these series (repeat the parameter for several); 404 for a name the "
        "job has not reported.",
        max_length=8,
    ),
]
SVG_HEADERS = {
    # Nothing in the chart runs; a browser opening it directly is told so as well.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@router.get(
    "/{name}/metrics",
    response_model=MetricsView,
    summary="Get a job's metric series (loss, accuracy...) by step or epoch",
)
async def get_metrics(name: JobName, caller: CallerDep, series: SeriesFilter = None) -> Response:
    """Every kept point of each series, with its lowest, highest and latest value; an empty
    list while the worker has reported no metric."""
    job = caller.jobs.get(caller.tenant, name)
    return ModelResponse(MetricsView.of(job, series or ()))


@router.get(
    "/{name}/metrics.svg",
    response_class=Response,
    summary="Draw a job's metric curves as an SVG chart",
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            "description": "One panel per series (its own y axis), a legend with the latest "
            "values.",
        }
    },
)
async def get_metrics_chart(
    name: JobName,
    caller: CallerDep,
    series: SeriesFilter = None,
    width: Annotated[
        int, Query(description="Width in pixels.", ge=MIN_WIDTH, le=MAX_WIDTH)
    ] = DEFAULT_WIDTH,
    panel_height: Annotated[
        int,
        Query(
            alias="panelHeight",
            description="Height of each series' panel in pixels.",
            ge=MIN_PANEL_HEIGHT,
            le=MAX_PANEL_HEIGHT,
        ),
    ] = DEFAULT_PANEL_HEIGHT,
) -> Response:
    """The chart of the series `GET /v1/jobs/{name}/metrics` returns."""
    job = caller.jobs.get(caller.tenant, name)
    view = MetricsView.of(job, series or ())
    svg = render_chart(view, width=width, panel_height=panel_height)
    return Response(content=svg, media_type="image/svg+xml", headers=SVG_HEADERS)
