"""The per-client-address limit: before authentication, by address (IPv6 by /64), 429 with
Retry-After naming the limit; probes and metrics never limited."""

from __future__ import annotations

import httpx
import pytest
from aijob_gateway.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from aijob_gateway.security.client_limit import ClientRateLimitMiddleware, client_key
from aijob_gateway.security.ratelimit import RateLimiter
from fastapi import FastAPI, Header


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limited_app(limiter: RateLimiter, reached: list[str]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(ClientRateLimitMiddleware, limiter=limiter)

    @app.get("/v1/jobs")
    async def jobs(authorization: str = Header()) -> str:
        reached.append(authorization)
        return "ok"

    for path in ("/healthz", "/readyz", "/metrics"):
        app.add_api_route(path, lambda: "ok")
    return app


async def get(app: FastAPI, path: str, client: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(client, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        return await http.get(path)


async def test_an_address_over_its_budget_gets_429_before_authentication() -> None:
    clock = ManualClock()
    reached: list[str] = []
    app = limited_app(RateLimiter(rate=0.5, burst=3, clock=clock), reached)
    statuses = [(await get(app, "/v1/jobs", "10.1.2.3")).status_code for _ in range(3)]
    # No key: the route answers 422 (a missing header), so each of those passed the limit.
    assert statuses == [422, 422, 422]
    refused = await get(app, "/v1/jobs", "10.1.2.3")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert refused.headers["retry-after"] == "2"
    detail = refused.json()["detail"]
    assert "0.5 requests/s (burst 3) per client address" in detail
    assert "10.1.2.3" in detail
    assert "client_rate_limit_per_second" in detail
    assert (await get(app, "/v1/jobs", "10.1.2.4")).status_code == 422
    clock.now += 2
    assert (await get(app, "/v1/jobs", "10.1.2.3")).status_code == 422
    assert reached == []


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
async def test_probes_and_metrics_are_never_limited(path: str) -> None:
    app = limited_app(RateLimiter(rate=0.001, burst=1, clock=ManualClock()), [])
    await get(app, "/v1/jobs", "10.9.9.9")
    assert (await get(app, "/v1/jobs", "10.9.9.9")).status_code == 429
    assert [(await get(app, path, "10.9.9.9")).status_code for _ in range(5)] == [200] * 5


async def test_an_ipv6_block_shares_one_budget() -> None:
    app = limited_app(RateLimiter(rate=0.001, burst=1, clock=ManualClock()), [])
    assert (await get(app, "/v1/jobs", "2001:db8:1:2::1")).status_code == 422
    assert (await get(app, "/v1/jobs", "2001:db8:1:2:ffff::9")).status_code == 429
    assert (await get(app, "/v1/jobs", "2001:db8:1:3::1")).status_code == 422


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("::1", "::/64"),
        ("unix-socket", "unix-socket"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_client_key(host: str | None, key: str) -> None:
    assert client_key(host) == key
