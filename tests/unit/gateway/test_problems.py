"""Field names in problem documents and request ids."""

from __future__ import annotations

import pytest
from aijob_gateway.observability.middleware import incoming_request_id
from aijob_gateway.problems import field_of


@pytest.mark.parametrize(
    ("location", "field"),
    [
        (("body", "spec", "model", "type"), "spec.model.type"),
        (("query", "limit"), "limit"),
        (("header", "Idempotency-Key"), "Idempotency-Key"),
        (("body",), "body"),
        (("body", "spec", "input", "records", 3), "spec.input.records.3"),
    ],
)
def test_field_of(location: tuple[str | int, ...], field: str) -> None:
    assert field_of(location) == field


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        (b"abc-123", True),
        (b"a" * 128, True),
        (b"a" * 129, False),
        (b"has space", False),
        (b"", False),
    ],
)
def test_request_ids(header: bytes, kept: bool) -> None:
    request_id = incoming_request_id({"headers": [(b"x-request-id", header)]})
    assert (request_id == header.decode()) is kept
    assert request_id
