"""Names and request digests that make submitting a job idempotent.

A client request id maps to a deterministic AIJob name in the tenant's
namespace, so the API server's "already exists" is what stops a second job: two
identical requests arriving at once race on one name and only one create wins.
The digest of the request body is stored on the AIJob; a replay with the same
digest returns the existing job, another digest is a conflict.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any, Final

NAME_PREFIX: Final = "job-"
NAME_HASH_CHARS: Final = 16


def name_for_request_id(tenant: str, client_request_id: str) -> str:
    """The AIJob name of a client request id (stable, DNS-label safe, 20 characters)."""
    digest = hashlib.sha256(f"{tenant}\n{client_request_id}".encode()).hexdigest()
    return NAME_PREFIX + digest[:NAME_HASH_CHARS]


def random_name() -> str:
    """A fresh AIJob name for a request without an id (64 random bits)."""
    return NAME_PREFIX + secrets.token_hex(NAME_HASH_CHARS // 2)


def request_digest(document: dict[str, Any]) -> str:
    """SHA-256 of a request's canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
