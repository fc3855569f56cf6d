"""Continue tokens of the job list: keyset pagination over the newest-first order.

A token encodes the sort key of the last job of a page (creation time, name)
and a digest of the filters. The next page starts strictly after that key, so
jobs created meanwhile (which sort before it) neither shift nor repeat a page,
and a job deleted meanwhile is simply absent. A token is opaque to clients and
only valid with the filters it was made for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this sort key, for these filters."""

    after: tuple[float, str]
    filters: str


def filters_digest(filters: dict[str, str | None]) -> str:
    """A short digest of the filters a token is valid for."""
    canonical = json.dumps(filters, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(cursor: Cursor) -> str:
    """The opaque token of a cursor."""
    raw = json.dumps({"k": list(cursor.after), "f": cursor.filters}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """The cursor of a token; ValueError when the token is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key, filters = document["k"], document["f"]
        after = (float(key[0]), str(key[1]))
        if not isinstance(filters, str) or len(key) != 2 or not math.isfinite(after[0]):
            raise ValueError("malformed")
    except (binascii.Error, ValueError, KeyError, TypeError, IndexError) as error:
        raise ValueError("not a continue token of this API") from error
    return Cursor(after=after, filters=filters)
