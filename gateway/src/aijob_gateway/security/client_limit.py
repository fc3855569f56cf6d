"""A rate limit per client address, before authentication: anonymous floods get 429 too.

A pure ASGI middleware in front of routing, the body limit and the key check. Each
client address has a token bucket (`RateLimiter`); an IPv6 client is counted by its
/64, the block one host usually holds, so cycling through addresses of one block does
not buy a fresh budget. The address is the connection's peer, or the one a trusted
proxy names in X-Forwarded-For (uvicorn's `forwarded_allow_ips`). The probe and
metrics routes are never limited: the kubelet and Prometheus must reach them however
busy the gateway is. The per-key limits after authentication stay as they are.
"""

from __future__ import annotations

import ipaddress
from typing import Final

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from aijob_gateway.problems import problem_response
from aijob_gateway.security.ratelimit import RateLimiter

UNLIMITED_PATHS: Final = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and metrics: never refused for the client's rate."""
IPV6_PREFIX: Final = 64


def client_key(host: str | None) -> str:
    """The bucket of a client address: IPv4 as is, IPv6 by its /64, anything else as given."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def _host(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


class ClientRateLimitMiddleware:
    """Answers 429 (with Retry-After) to a client address over its budget."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, unless its address spent its budget."""
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        key = client_key(_host(scope))
        wait = self.limiter.acquire(key)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = RateLimiter.retry_after_header(wait)
        limiter = self.limiter
        response = problem_response(
            Request(scope),
            status=429,
            slug="rate-limited",
            title="Too many requests",
            detail=(
                f"rate limit of {limiter.rate:g} requests/s (burst {limiter.burst}) per client "
                f"address exceeded for {key} (gateway setting client_rate_limit_per_second); "
                f"retry after {retry_after}s"
            ),
            headers={"Retry-After": retry_after},
        )
        await response(scope, receive, send)
