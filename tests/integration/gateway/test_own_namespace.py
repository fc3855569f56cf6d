"""The gateway's own namespace (aijob's, where the operator reconciles nothing) is no tenant's:
no key is minted for it, and a key bound to it anyway is refused."""

from __future__ import annotations

import httpx
import pytest
from aijob_gateway.security.keys import mint_key

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway


def test_no_key_is_minted_for_the_gateways_namespace(gateway: RunningGateway) -> None:
    with pytest.raises(ValueError, match="is aijob's own namespace"):
        gateway.admin.create(gateway.namespace, "should not exist")
    assert all(entry.tenant != gateway.namespace for entry in gateway.admin.entries())


def test_a_key_bound_to_the_gateways_namespace_is_refused(gateway: RunningGateway) -> None:
    # Written past the key tool, as a hand-edited Secret would hold it.
    minted = mint_key(gateway.namespace, "hand-made")
    gateway.admin.store(minted.entry)
    try:

        def answer() -> httpx.Response | None:
            response = httpx.get(
                f"{gateway.url}/v1/jobs", headers={"Authorization": f"Bearer {minted.key}"}
            )
            return response if response.status_code != 401 else None  # 401 until watched

        response = eventually(answer, timeout=Timeout.API, what="the key loaded")
        assert response is not None
        assert response.status_code == 403, response.text
        assert "aijob's own namespace" in response.json()["detail"]
    finally:
        gateway.admin.revoke(minted.entry.key_id)
