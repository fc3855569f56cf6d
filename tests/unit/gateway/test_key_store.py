"""The key store fails closed: a broken watch keeps the last keys for a bounded time only,
then every check answers 503 until a fresh list; a deleted Secret accepts no key."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aijob_gateway.errors import UnavailableError
from aijob_gateway.kube.key_store import KeyStore
from aijob_gateway.security.keys import MintedKey, mint_key

SECRET = "aijob-api-keys"


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def secret(*keys: MintedKey) -> dict[str, Any]:
    data = {key.entry.key_id: key.entry.to_secret_value() for key in keys}
    return {"metadata": {"name": SECRET}, "data": data}


async def listing(*objects: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    for obj in objects:
        yield obj


async def test_not_loaded_before_the_first_list_even_when_the_first_list_fails() -> None:
    store = KeyStore(SECRET, stale_after=30, clock=ManualClock())
    with pytest.raises(UnavailableError, match="not loaded yet"):
        store.check_usable()
    store.mark_unsynced()
    with pytest.raises(UnavailableError, match="not loaded yet"):
        store.check_usable()
    assert not store.usable


async def test_a_broken_watch_keeps_the_last_keys_for_the_bound_then_fails_closed() -> None:
    clock = ManualClock()
    store = KeyStore(SECRET, stale_after=30, clock=clock)
    key = mint_key("team-a")
    await store.replace(listing(secret(key)))
    store.check_usable()
    assert (store.synced, store.usable, store.stale_for()) == (True, True, 0)
    store.mark_unsynced()
    clock.now += 10
    store.mark_unsynced()  # each failed retry: the outage still counts from its start
    clock.now += 20
    assert (store.synced, store.usable) == (False, True)
    store.check_usable()
    assert store.authenticate(key.key) is not None
    clock.now += 0.5
    assert store.stale_for() == pytest.approx(30.5)
    assert not store.usable
    with pytest.raises(UnavailableError) as refused:
        store.check_usable()
    assert "broken for 30s" in refused.value.detail
    assert "keys_stale_after_seconds" in refused.value.detail
    assert refused.value.headers["Retry-After"]
    # A fresh list heals it, and it reflects the Secret as it is now.
    other = mint_key("team-b")
    await store.replace(listing(secret(other)))
    store.check_usable()
    assert store.stale_for() == 0
    assert store.authenticate(key.key) is None
    assert store.authenticate(other.key) is not None


async def test_revocation_and_deletion_apply_at_once() -> None:
    store = KeyStore(SECRET, clock=ManualClock())
    kept, revoked = mint_key("team-a"), mint_key("team-a")
    await store.replace(listing(secret(kept, revoked)))
    store.apply("MODIFIED", secret(kept))
    assert store.authenticate(revoked.key) is None
    assert store.authenticate(kept.key) is not None
    store.apply("MODIFIED", {"metadata": {"name": "another-secret"}, "data": {}})
    assert store.authenticate(kept.key) is not None
    store.apply("DELETED", secret(kept))
    assert store.authenticate(kept.key) is None


async def test_a_missing_secret_accepts_no_key() -> None:
    store = KeyStore(SECRET, clock=ManualClock())
    await store.replace(listing())
    store.check_usable()
    garbage = base64.b64encode(b"not json").decode()
    store.apply("ADDED", {"metadata": {"name": SECRET}, "data": {"abc": garbage}})
    assert len(store.table) == 0
