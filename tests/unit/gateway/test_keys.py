"""API keys: minting, hashing, the Secret's entries and authentication."""

from __future__ import annotations

import base64
import json

import pytest
from aijob_gateway.security.keys import KeyTable, hash_key, mint_key, parse_entry


def test_minted_key_authenticates_as_its_tenant() -> None:
    minted = mint_key("team-a", "ci")
    table = KeyTable({minted.entry.key_id: minted.entry})
    tenant = table.authenticate(minted.key)
    assert tenant is not None
    assert tenant.namespace == "team-a"
    assert tenant.key_id == minted.entry.key_id


def test_the_secret_stores_only_the_hash() -> None:
    minted = mint_key("team-a")
    value = json.loads(base64.b64decode(minted.entry.to_secret_value()))
    assert value["sha256"] == hash_key(minted.key)
    assert minted.key not in json.dumps(value)
    assert minted.key.split("_", 2)[2] not in json.dumps(value)  # the whole secret, "_" and all


def test_round_trip_through_secret_data() -> None:
    minted = mint_key("team-b", "notebook")
    table = KeyTable.from_secret_data({minted.entry.key_id: minted.entry.to_secret_value()})
    assert table.authenticate(minted.key) is not None
    assert table.entries()[0].description == "notebook"


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"), id="last-char"),
        pytest.param(lambda key: key.upper(), id="upper"),
        pytest.param(lambda key: "", id="empty"),
        pytest.param(lambda key: key + "x", id="longer"),
        pytest.param(lambda key: "Bearer " + key, id="with-scheme"),
    ],
)
def test_altered_keys_are_refused(mutate: object) -> None:
    minted = mint_key("team-a")
    table = KeyTable({minted.entry.key_id: minted.entry})
    assert callable(mutate)
    assert table.authenticate(mutate(minted.key)) is None


def test_a_key_of_a_revoked_entry_is_refused() -> None:
    kept, revoked = mint_key("team-a"), mint_key("team-a")
    table = KeyTable({kept.entry.key_id: kept.entry})
    assert table.authenticate(revoked.key) is None
    assert table.authenticate(kept.key) is not None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "base64"),
        (base64.b64encode(b"[1]").decode(), "JSON object"),
        (base64.b64encode(b'{"sha256": "' + b"a" * 64 + b'"}').decode(), "tenant"),
        (base64.b64encode(b'{"tenant": "Team_A", "sha256": "x"}').decode(), "tenant"),
        (base64.b64encode(b'{"tenant": "team-a", "sha256": "xyz"}').decode(), "sha256"),
    ],
)
def test_malformed_entries_are_rejected(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_entry("abc", value)


def test_malformed_entries_are_skipped_not_fatal() -> None:
    good = mint_key("team-a")
    table = KeyTable.from_secret_data(
        {"broken": "###", good.entry.key_id: good.entry.to_secret_value()}
    )
    assert len(table) == 1


@pytest.mark.parametrize("tenant", ["", "Team", "a_b", "-a", "x" * 64])
def test_tenant_must_be_a_namespace_name(tenant: str) -> None:
    with pytest.raises(ValueError, match="tenant"):
        mint_key(tenant)
