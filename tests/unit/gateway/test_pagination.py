"""Continue tokens."""

from __future__ import annotations

import pytest
from aijob_gateway.services.pagination import Cursor, decode_cursor, encode_cursor, filters_digest


def test_round_trip() -> None:
    cursor = Cursor(after=(-1735732800.0, "job-1"), filters=filters_digest({"phase": None}))
    assert decode_cursor(encode_cursor(cursor)) == cursor


def test_digest_depends_on_the_filters() -> None:
    assert filters_digest({"phase": "Running"}) != filters_digest({"phase": "Pending"})
    assert filters_digest({"a": "1", "b": None}) == filters_digest({"b": None, "a": "1"})


@pytest.mark.parametrize(
    "token", ["", "!!!", "e30", "eyJrIjogWzFdLCAiZiI6ICJ4In0", "eyJrIjpbIk5hTiIsImEiXSwiZiI6IngifQ"]
)
def test_foreign_tokens_are_refused(token: str) -> None:
    with pytest.raises(ValueError, match="continue token"):
        decode_cursor(token)
