"""The accepted API keys, kept current from the key Secret by a reflector; fail closed.

The Secret is watched (field selector on its name), so a key minted or revoked
with `python -m aijob_gateway.keys` takes effect within a watch round trip,
without restarting the gateway. A missing Secret means no key is accepted.

When the watch breaks (the API server unreachable, the gateway's right to read the
Secret withdrawn, a watch that crashed), the reflector marks the store stale and
lists again after a back-off. The last known table keeps answering for
`stale_after` seconds (a blip of the API server does not refuse every tenant), then
every key check fails closed with 503 until a fresh list succeeds: a key revoked
while the gateway could not see the Secret is never honoured for longer than that.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aijob_gateway.errors import UnavailableError
from aijob_gateway.security.keys import KeyTable, Tenant


class KeyStore:
    """A reflector sink holding the current `KeyTable`, and how fresh it is."""

    def __init__(
        self,
        secret_name: str,
        stale_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret_name = secret_name
        self.stale_after = stale_after
        self.table = KeyTable()
        self.synced = False
        """Listed, and the watch has not broken since."""
        self._clock = clock
        self._listed = False
        self._broken_since: float | None = None

    async def replace(self, objects: AsyncIterator[dict[str, Any]]) -> None:
        """A fresh list of (at most one) Secret."""
        data = None
        async for obj in objects:
            if obj["metadata"]["name"] == self.secret_name:
                data = obj.get("data")
        self.table = KeyTable.from_secret_data(data)
        self.synced = self._listed = True
        self._broken_since = None

    def apply(self, event_type: str, obj: dict[str, Any]) -> None:
        """The Secret changed or went away."""
        if obj["metadata"]["name"] != self.secret_name:
            return
        data = None if event_type == "DELETED" else obj.get("data")
        self.table = KeyTable.from_secret_data(data)

    def mark_unsynced(self) -> None:
        """The watch broke: the table may miss revocations from now on."""
        self.synced = False
        if self._broken_since is None:
            self._broken_since = self._clock()

    def stale_for(self) -> float:
        """Seconds since the watch broke (0 while it works)."""
        if self._broken_since is None:
            return 0.0
        return max(0.0, self._clock() - self._broken_since)

    @property
    def usable(self) -> bool:
        """Listed once, and not broken for longer than `stale_after`."""
        return self._listed and self.stale_for() <= self.stale_after

    def check_usable(self) -> None:
        """Raise 503 unless keys may be checked against the table now."""
        if not self._listed:
            raise UnavailableError("API keys are not loaded yet", headers={"Retry-After": "1"})
        if not self.usable:
            raise UnavailableError(
                f"the API keys cannot be checked: the watch of Secret {self.secret_name} has "
                f"been broken for {self.stale_for():.0f}s, longer than the "
                f"{self.stale_after:g}s the gateway trusts its last copy (gateway setting "
                "keys_stale_after_seconds); retry later",
                headers={"Retry-After": "5"},
            )

    def authenticate(self, key: str) -> Tenant | None:
        """The tenant of a key, or None (after `check_usable`)."""
        return self.table.authenticate(key)
