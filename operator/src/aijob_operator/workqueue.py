"""A keyed work queue with client-go's guarantees, for asyncio, and two priorities.

- A key waits in the queue at most once, however often it is added.
- A key is processed by one worker at a time; added while processing, it is
  processed again right after (never concurrently, never lost).
- `add_after` schedules a key for later; the earliest schedule per key wins.
- `retry` adds a key after an exponential back-off that `forget` resets.
- `add(key, urgent=True)` goes before every non-urgent key: a new AIJob waiting for
  its Job is not held up behind a backlog of status updates.

So every trigger (a watch event of the AIJob, its Job or its pods, a timer)
collapses into one reconcile of the latest state.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

URGENT = 0
NORMAL = 1


class WorkQueue(Generic[K]):
    """Deduplicating, delay-capable, two-priority work queue of keys."""

    def __init__(self, base_delay: float = 0.5, max_delay: float = 60.0) -> None:
        self._heap: list[tuple[int, int, K]] = []
        self._tokens: asyncio.Queue[None] = asyncio.Queue()
        """One token per heap entry, so a waiting worker wakes for each push."""
        self._sequence = itertools.count()
        self._queued: dict[K, tuple[int, float]] = {}
        self._processing: set[K] = set()
        self._dirty: dict[K, tuple[int, float]] = {}
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

    def add(self, key: K, *, urgent: bool = False) -> None:
        """Queue a key now (once, however often it is added; urgent ones first)."""
        if self._closed:
            return
        priority = URGENT if urgent else NORMAL
        now = time.monotonic()
        if key in self._processing:
            old = self._dirty.get(key)
            self._dirty[key] = (min(priority, old[0]), old[1]) if old else (priority, now)
            return
        queued = self._queued.get(key)
        if queued is not None and queued[0] <= priority:
            return
        self._push(key, priority, queued[1] if queued else now)

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
        """The next key to process (urgent first, then oldest), and how long it waited."""
        while True:
            await self._tokens.get()
            priority, _, key = heapq.heappop(self._heap)
            queued = self._queued.get(key)
            if queued is None or queued[0] != priority:
                continue  # a stale entry: the key was re-queued with a higher priority
            del self._queued[key]
            self._processing.add(key)
            return key, time.monotonic() - queued[1]

    def done(self, key: K) -> None:
        """Mark a key processed; queue it again if it was added meanwhile."""
        self._processing.discard(key)
        dirty = self._dirty.pop(key, None)
        if dirty is not None and not self._closed:
            self._push(key, *dirty)

    def close(self) -> None:
        """Stop accepting keys and cancel every timer."""
        self._closed = True
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _push(self, key: K, priority: int, added: float) -> None:
        self._queued[key] = (priority, added)
        heapq.heappush(self._heap, (priority, next(self._sequence), key))
        self._tokens.put_nowait(None)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)
