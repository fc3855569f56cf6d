"""The accepted API keys, kept current from the key Secret by a reflector.

The Secret is watched (field selector on its name), so a key minted or revoked
with `python -m aijob_gateway.keys` takes effect within a watch round trip,
without restarting the gateway. A missing Secret means no key is accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aijob_gateway.security.keys import KeyTable, Tenant


class KeyStore:
    """A reflector sink holding the current `KeyTable`."""

    def __init__(self, secret_name: str) -> None:
        self.secret_name = secret_name
        self.table = KeyTable()
        self.synced = False

    async def replace(self, objects: AsyncIterator[dict[str, Any]]) -> None:
        """A fresh list of (at most one) Secret."""
        data = None
        async for obj in objects:
            if obj["metadata"]["name"] == self.secret_name:
                data = obj.get("data")
        self.table = KeyTable.from_secret_data(data)
        self.synced = True

    def apply(self, event_type: str, obj: dict[str, Any]) -> None:
        """The Secret changed or went away."""
        if obj["metadata"]["name"] != self.secret_name:
            return
        data = None if event_type == "DELETED" else obj.get("data")
        self.table = KeyTable.from_secret_data(data)

    def mark_unsynced(self) -> None:
        """Keys keep working from the last known table while the watch recovers."""

    def authenticate(self, key: str) -> Tenant | None:
        """The tenant of a key, or None."""
        return self.table.authenticate(key)
