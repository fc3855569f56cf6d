"""Deterministic names and request digests."""

from __future__ import annotations

import re

from aijob_api.models import DNS_LABEL_PATTERN
from aijob_gateway.services.idempotency import name_for_request_id, random_name, request_digest


def test_same_tenant_and_id_give_the_same_name() -> None:
    assert name_for_request_id("team-a", "req-1") == name_for_request_id("team-a", "req-1")


def test_names_differ_by_id_and_by_tenant() -> None:
    names = {
        name_for_request_id("team-a", "req-1"),
        name_for_request_id("team-a", "req-2"),
        name_for_request_id("team-b", "req-1"),
    }
    assert len(names) == 3


def test_names_are_short_dns_labels() -> None:
    for name in (name_for_request_id("t", "x" * 128), random_name()):
        assert re.fullmatch(DNS_LABEL_PATTERN, name)
        assert len(name) == 20


def test_random_names_differ() -> None:
    assert len({random_name() for _ in range(100)}) == 100


def test_digest_ignores_key_order_but_not_values() -> None:
    assert request_digest({"a": 1, "b": {"c": 2, "d": 3}}) == request_digest(
        {"b": {"d": 3, "c": 2}, "a": 1}
    )
    assert request_digest({"a": 1}) != request_digest({"a": 2})
