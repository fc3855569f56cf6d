"""The body limit: 413 before the body is read, parsed or authenticated, on every route; the
inference routes have a larger limit of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aijob_gateway.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from aijob_gateway.security.body_limit import (
    BodyLimitMiddleware,
    BodyLimits,
    is_inference_path,
    too_large,
)
from fastapi import FastAPI, Header, Request
from pydantic import BaseModel

LIMIT = 1024
DEFAULT_LIMIT = 512


class Records(BaseModel):
    records: list[int]


def app_with_limit(reached: list[str]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware, limits=BodyLimits(default=DEFAULT_LIMIT, inference=LIMIT)
    )

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

    @app.post("/v1/endpoints")
    async def create(body: Records, authorization: str = Header()) -> int:
        reached.append(authorization)
        return len(body.records)

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
    assert problem["detail"] == too_large(LIMIT, "inference_max_body_bytes")
    assert "1 KiB" in problem["detail"]
    assert response.headers["connection"] == "close"
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


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/endpoints"])
async def test_every_other_route_has_the_general_limit(path: str, chunked: bool) -> None:
    reached: list[str] = []
    app = app_with_limit(reached)
    response = await post(app, path, b"x" * (DEFAULT_LIMIT + 1), chunked=chunked)
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == too_large(DEFAULT_LIMIT, "max_body_bytes")
    assert "512 bytes" in response.json()["detail"]
    assert reached == []
    assert (await post(app, "/v1/jobs", b"x" * DEFAULT_LIMIT)).json() == DEFAULT_LIMIT


async def test_a_declared_length_over_the_limit_is_refused_even_where_no_route_reads_it() -> None:
    response = await post(app_with_limit([]), "/v1/nowhere", b"x" * (DEFAULT_LIMIT + 1))
    assert response.status_code == 413


async def test_the_limit_holds_before_the_key_is_checked() -> None:
    # /v1/endpoints needs an Authorization header (422 without one): the body's size wins.
    reached: list[str] = []
    app = app_with_limit(reached)
    over = await post(app, "/v1/endpoints", b'{"records": [' + b"1," * DEFAULT_LIMIT + b"1]}")
    assert over.status_code == 413
    within = await post(app, "/v1/endpoints", b'{"records": [1]}')
    assert within.status_code == 422
    assert within.json()["field"] == "authorization"
    assert reached == []


@pytest.mark.parametrize(
    ("limit", "readable"),
    [
        (1024, "1 KiB"),
        (1536, "1536 bytes"),
        (1 << 20, "1 MiB"),
        (16 << 20, "16 MiB"),
        (1 << 30, "1 GiB"),
    ],
)
def test_the_detail_names_the_limit_readably(limit: int, readable: str) -> None:
    detail = too_large(limit, "max_body_bytes")
    assert f"{limit} bytes ({readable})" in detail
    assert "max_body_bytes" in detail


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
