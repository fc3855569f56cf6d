"""API keys: their format, their hash, and the table of keys the gateway accepts.

A key looks like `aij_<id>_<secret>`: `id` (12 hex characters) is public and
names the entry in the Kubernetes Secret; `secret` is 32 random bytes. The
Secret stores only the SHA-256 of the whole key next to the tenant namespace it
is bound to. Keys are random high-entropy tokens, not passwords, so one fast
hash is enough (no salt or key stretching is needed against guessing), and the
comparison is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

KEY_PREFIX: Final = "aij"
KEY_ID_BYTES: Final = 6
KEY_SECRET_BYTES: Final = 32
_KEY_PATTERN: Final = re.compile(r"^aij_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
_NAMESPACE_PATTERN: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyEntry:
    """One accepted key, as stored: never the key itself, only its hash."""

    key_id: str
    tenant: str
    sha256: str
    created_at: str | None = None
    description: str | None = None

    def to_secret_value(self) -> str:
        """The base64 value of this entry in the Secret's `data`."""
        document = {
            "tenant": self.tenant,
            "sha256": self.sha256,
            "createdAt": self.created_at,
            "description": self.description,
        }
        raw = json.dumps({k: v for k, v in document.items() if v is not None}, sort_keys=True)
        return base64.b64encode(raw.encode()).decode()


@dataclass(frozen=True)
class Tenant:
    """Who is calling: the key's id and the namespace it may use."""

    key_id: str
    namespace: str


@dataclass(frozen=True)
class MintedKey:
    """A new key: the plain key (shown once) and the entry to store."""

    key: str
    entry: KeyEntry


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def mint_key(tenant: str, description: str | None = None) -> MintedKey:
    """Make a new random key bound to `tenant`."""
    if not _NAMESPACE_PATTERN.match(tenant) or len(tenant) > 63:
        raise ValueError(f"tenant: {tenant!r} is not a valid namespace name")
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(KEY_SECRET_BYTES)).decode().rstrip("=")
    key = f"{KEY_PREFIX}_{key_id}_{secret}"
    created = datetime.now(UTC).isoformat(timespec="seconds")
    entry = KeyEntry(key_id, tenant, hash_key(key), created_at=created, description=description)
    return MintedKey(key=key, entry=entry)


def parse_entry(key_id: str, value: str) -> KeyEntry:
    """Decode one Secret data entry; ValueError when it is malformed."""
    try:
        document = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"entry {key_id!r} is not base64-encoded JSON") from error
    if not isinstance(document, dict):
        raise ValueError(f"entry {key_id!r} is not a JSON object")
    tenant, digest = document.get("tenant"), document.get("sha256")
    if not isinstance(tenant, str) or not _NAMESPACE_PATTERN.match(tenant):
        raise ValueError(f"entry {key_id!r}: tenant is missing or not a namespace name")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"entry {key_id!r}: sha256 is missing or not a hex digest")
    return KeyEntry(
        key_id=key_id,
        tenant=tenant,
        sha256=digest,
        created_at=document.get("createdAt"),
        description=document.get("description"),
    )


class KeyTable:
    """The keys the gateway accepts, indexed by key id; replaced whole on every reload."""

    def __init__(self, entries: Mapping[str, KeyEntry] | None = None) -> None:
        self._entries: dict[str, KeyEntry] = dict(entries or {})

    @classmethod
    def from_secret_data(cls, data: Mapping[str, str] | None) -> KeyTable:
        """Build the table from a Secret's `data`, skipping (and logging) malformed entries."""
        entries: dict[str, KeyEntry] = {}
        for key_id, value in (data or {}).items():
            try:
                entries[key_id] = parse_entry(key_id, value)
            except ValueError as error:
                log.warning("ignoring API key entry", extra={"error": str(error)})
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[KeyEntry]:
        """Every entry (hashes only)."""
        return list(self._entries.values())

    def authenticate(self, key: str) -> Tenant | None:
        """The tenant of `key`, or None when it is not a key this table accepts."""
        match = _KEY_PATTERN.match(key)
        if match is None:
            return None
        entry = self._entries.get(match["id"])
        if entry is None:
            return None
        if not hmac.compare_digest(hash_key(key), entry.sha256):
            return None
        return Tenant(key_id=entry.key_id, namespace=entry.tenant)
