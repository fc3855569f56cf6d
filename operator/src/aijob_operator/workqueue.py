"""A keyed work queue with client-go's guarantees, for asyncio.

- A key waits in the queue at most once, however often it is added.
- A key is processed by one worker at a time; added while processing, it is
  processed again right after (never concurrently, never lost).
- `add_after` schedules a key for later; the earliest schedule per key wins.
- `retry` adds a key after an exponential back-off that `forget` resets.

So every trigger (a watch event of the AIJob, its Job or its pods, a timer)
collapses into one reconcile of the latest state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    """Deduplicating, delay-capable work queue of keys."""

    def __init__(self, base_delay: float = 0.5, max_delay: float = 60.0) -> None:
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._queued: dict[K, float] = {}
        self._processing: set[K] = set()
        self._dirty: dict[K, float] = {}
        self._timers: dict[K, tuple[float, asyncio.TimerHandle]] = {}
        self._failures: dict[K, int] = {}
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._closed = False

    def __len__(self) -> int:
        """Keys waiting to be processed now (not counting scheduled ones)."""
        return len(self._queued)

    @property
    def scheduled(self) -> int:
        """Keys waiting for a timer."""
        return len(self._timers)

    @property
    def processing(self) -> int:
        """Keys being processed."""
        return len(self._processing)

    def add(self, key: K) -> None:
        """Queue a key now (once, however often it is added)."""
        if self._closed:
            return
        now = time.monotonic()
        if key in self._processing:
            self._dirty.setdefault(key, now)
            return
        if key in self._queued:
            return
        self._queued[key] = now
        self._queue.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        """Queue a key after `delay` seconds, unless it is already scheduled sooner."""
        if self._closed:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        existing = self._timers.get(key)
        if existing is not None:
            if existing[0] <= due:
                return
            existing[1].cancel()
        self._timers[key] = (due, loop.call_at(due, self._fire, key))

    def retry(self, key: K) -> float:
        """Queue a key again after its next back-off; return that delay."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay = min(self._max_delay, self._base_delay * float(2**failures))
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """Reset a key's back-off (after a successful pass)."""
        self._failures.pop(key, None)

    def discard(self, key: K) -> None:
        """Drop a key's timers and back-off (the object is gone)."""
        self._failures.pop(key, None)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer[1].cancel()

    async def get(self) -> tuple[K, float]:
        """The next key to process, and how long it waited (seconds)."""
        key = await self._queue.get()
        added = self._queued.pop(key, time.monotonic())
        self._processing.add(key)
        return key, time.monotonic() - added

    def done(self, key: K) -> None:
        """Mark a key processed; queue it again if it was added meanwhile."""
        self._processing.discard(key)
        added = self._dirty.pop(key, None)
        if added is not None and not self._closed:
            self._queued[key] = added
            self._queue.put_nowait(key)

    def close(self) -> None:
        """Stop accepting keys and cancel every timer."""
        self._closed = True
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)
