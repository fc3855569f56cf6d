"""Health, readiness, metrics and request ids of a running gateway."""

from __future__ import annotations

import httpx

from tests.support.gateway import RunningGateway


def test_healthz_and_readyz_need_no_key(gateway: RunningGateway) -> None:
    assert httpx.get(f"{gateway.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{gateway.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "jobsCacheSynced": True,
        "keysSynced": True,
        "keysUsable": True,
        "apiServer": True,
        "reasons": [],
    }
