"""The inference routes' body limit: 413 before the body is read or parsed; other routes alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aijob_gateway.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from aijob_gateway.security.body_limit import BodyLimitMiddleware, is_inference_path
from fastapi import FastAPI, Request
from pydantic import BaseModel

LIMIT = 1024


class Records(BaseModel):
    records: list[int]


def app_with_limit(reached: list[str]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit_bytes=LIMIT)

    @app.post("/v1/endpoints/{name}/infer")
    async def infer(name: str, body: Records) -> int:
        reached.append(name)
        return len(body.records)

    @app.post("/v1/endpoints/{name}/v2/models/{model}/infer")
    async def v2(name: str, model: str, request: Request) -> int:
        body = await request.body()
        reached.append(model)
        return len(body)

    @app.post("/v1/jobs")
    async def jobs(request: Request) -> int:
        return len(await request.body())

    return app


async def chunks(data: bytes, size: int = 256) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def post(app: FastAPI, path: str, content: bytes, *, chunked: bool = False) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        body = chunks(content) if chunked else content
        return await client.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    "path", ["/v1/endpoints/iris/infer", "/v1/endpoints/iris/v2/models/iris/infer"]
)
async def test_a_body_over_the_limit_is_refused_unread(path: str, chunked: bool) -> None:
    reached: list[str] = []
    response = await post(app_with_limit(reached), path, b"{" * (LIMIT + 1), chunked=chunked)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["type"] == "urn:aijob:problem:too-large"
    assert str(LIMIT) in problem["detail"]
    assert reached == []
    assert ("error" in problem) is ("/v2/" in path)


async def test_a_body_within_the_limit_is_parsed_as_usual() -> None:
    reached: list[str] = []
    app = app_with_limit(reached)
    body = b'{"records": [' + b"1," * 300 + b"1]}"
    assert len(body) <= LIMIT
    response = await post(app, "/v1/endpoints/iris/infer", body, chunked=True)
    assert response.json() == 301
    invalid = await post(app, "/v1/endpoints/iris/infer", b"{" * LIMIT)
    assert invalid.status_code == 422
    assert reached == ["iris"]


async def test_other_routes_are_not_limited() -> None:
    response = await post(app_with_limit([]), "/v1/jobs", b"x" * (LIMIT * 4))
    assert response.json() == LIMIT * 4


@pytest.mark.parametrize(
    ("path", "limited"),
    [
        ("/v1/endpoints/iris/infer", True),
        ("/v1/endpoints/iris/v2", True),
        ("/v1/endpoints/iris/v2/models/iris/infer", True),
        ("/v1/endpoints", False),
        ("/v1/endpoints/iris", False),
        ("/v1/endpoints/iris/stats", False),
        ("/v1/jobs", False),
        ("/v1/endpoints/iris/infer/async", True),
        ("/infer", True),
        ("/priority/infer", True),
        ("/infer/async", True),
        ("/v1/tasks", True),
        ("/v1/tasks/job-0123", False),
        ("/result/r-1", False),
    ],
)
def test_which_routes_are_limited(path: str, limited: bool) -> None:
    assert is_inference_path(path) is limited
