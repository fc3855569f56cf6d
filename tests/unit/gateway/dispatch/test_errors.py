"""The dispatcher's errors become the gateway's problem documents: 429, 504, 503, 502."""

from __future__ import annotations

import httpx
import pytest
from aijob_gateway.dispatch import (
    DeadlineExceededError,
    DispatchError,
    NoReadyPodError,
    PodsFailedError,
    QueueFullError,
)
from aijob_gateway.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from fastapi import FastAPI


@pytest.mark.parametrize(
    ("error", "status", "slug", "retry_after"),
    [
        (QueueFullError("queue full", retry_after=7), 429, "queue-full", "7"),
        (QueueFullError("queue full", retry_after=0), 429, "queue-full", "1"),
        (DeadlineExceededError("too late", attempts=2), 504, "deadline-exceeded", None),
        (NoReadyPodError("no ready pod"), 503, "no-ready-pod", "1"),
        (NoReadyPodError("no ready pod", retry_after=5), 503, "no-ready-pod", "5"),
        (PodsFailedError("all failed", attempts=3), 502, "inference-failed", None),
    ],
)
async def test_each_error_is_a_problem_document(
    error: DispatchError, status: int, slug: str, retry_after: str | None
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/endpoints/demo/infer")
    async def infer() -> None:
        raise error

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post("/v1/endpoints/demo/infer")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers.get("retry-after") == retry_after
    body = response.json()
    assert body["type"] == f"urn:aijob:problem:{slug}"
    assert body["detail"] == error.detail


@pytest.mark.parametrize(("attempts", "retries"), [(0, 0), (1, 0), (3, 2)])
def test_errors_report_the_retries(attempts: int, retries: int) -> None:
    assert PodsFailedError("failed", attempts=attempts).retries == retries
