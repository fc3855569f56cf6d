"""Slots for long-lived streams (followed logs): a few per API key, a bounded number in all.

A followed log holds an API server connection for as long as the client listens, so
one key opening hundreds would hold hundreds of connections. `StreamSlots.acquire`
takes a slot for a key, or raises 429 naming the limit that is full; the slot is a
`Lease`, given back exactly once. `LeasedStream` ties a lease to the body of a
streaming response: it gives the slot back when the stream ends, fails, is cancelled
(the client went away), is closed, or is dropped without ever being read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from aijob_gateway.errors import RateLimitedError

ChunkT = TypeVar("ChunkT")
RETRY_AFTER_SECONDS = "5"


class Lease:
    """One taken slot; `release` gives it back (again is a no-op)."""

    def __init__(self, give_back: Callable[[], None]) -> None:
        self._give_back: Callable[[], None] | None = give_back

    @property
    def held(self) -> bool:
        """Whether the slot is still taken by this lease."""
        return self._give_back is not None

    def release(self) -> None:
        """Give the slot back."""
        give_back, self._give_back = self._give_back, None
        if give_back is not None:
            give_back()


class StreamSlots:
    """At most `per_key` streams per key and `total` in all."""

    def __init__(self, per_key: int, total: int, what: str = "followed log streams") -> None:
        if per_key < 1 or total < 1:
            raise ValueError("per_key and total must be >= 1")
        self.per_key = per_key
        self.total = total
        self.what = what
        self._open: dict[str, int] = {}
        self._count = 0

    def open_streams(self, key: str | None = None) -> int:
        """Streams open for `key`, or in all."""
        return self._count if key is None else self._open.get(key, 0)

    def acquire(self, key: str) -> Lease:
        """A slot for `key`; RateLimitedError (429) when its or the gateway's limit is full."""
        held = self._open.get(key, 0)
        if held >= self.per_key:
            raise RateLimitedError(
                f"key {key} already holds {held} {self.what}, the limit per API key "
                f"(gateway setting log_streams_per_key={self.per_key}); close one first",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        if self._count >= self.total:
            raise RateLimitedError(
                f"the gateway already holds {self._count} {self.what}, its limit "
                f"(gateway setting log_streams_total={self.total}); retry later",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        self._open[key] = held + 1
        self._count += 1
        return Lease(lambda: self._release(key))

    def _release(self, key: str) -> None:
        left = self._open[key] - 1
        if left:
            self._open[key] = left
        else:
            del self._open[key]
        self._count -= 1


class LeasedStream(Generic[ChunkT]):
    """An async iterator over `inner` that releases `lease` however the iteration ends."""

    def __init__(self, inner: AsyncIterator[ChunkT], lease: Lease) -> None:
        self._inner = inner
        self._lease = lease

    def __aiter__(self) -> LeasedStream[ChunkT]:
        return self

    async def __anext__(self) -> ChunkT:
        try:
            return await anext(self._inner)
        except BaseException:  # the end, a failure, or a cancellation: the slot is free
            self._lease.release()
            raise

    async def aclose(self) -> None:
        """Stop streaming: release the slot and close the inner stream."""
        self._lease.release()
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()

    def __del__(self) -> None:
        # A response dropped before its body was read (the client left at once).
        self._lease.release()
