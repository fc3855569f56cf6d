"""The bounded priority queue of requests waiting for a free slot on a pod.

High before normal before low (the order of `PRIORITY_LEVELS`); within a
priority, first come first served by arrival number. A request that failed on a pod
comes back with its original arrival number, so its retry does not go behind the
requests that arrived after it. The queue may briefly hold one more than its limit:
`overflow()` then names who must leave, the newest request of the lowest priority,
so a high-priority request takes the place of a queued low one instead of being
refused.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from aijob_api.priority import PRIORITY_LEVELS, Priority

from aijob_gateway.dispatch.pods import PodState

PRIORITY_ORDER: tuple[Priority, ...] = tuple(level.priority for level in PRIORITY_LEVELS)
"""Priorities, most urgent first (the order of the one priority table)."""


@dataclass(eq=False)
class Waiter:
    """One request waiting for a slot; `granted` is resolved with the pod (slot reserved)."""

    priority: Priority
    arrival: int
    """Arrival number of the request (the same for each of its attempts)."""
    excluded: frozenset[str]
    """Pods it must not go to: those it already failed on."""
    failures: tuple[str, ...]
    """What went wrong in each attempt it made before waiting."""
    granted: asyncio.Future[PodState] = field(repr=False)

    @property
    def attempts(self) -> int:
        """Attempts it made before waiting (each one failed on a pod's fault)."""
        return len(self.failures)


class PendingQueue:
    """Waiters by priority, FIFO by arrival number within each."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("the queue limit must be >= 0")
        self.limit = limit
        self.high_watermark = 0
        """The most requests that waited at once (an overflow about to leave is not counted)."""
        self._arrivals: dict[Priority, list[int]] = {priority: [] for priority in PRIORITY_ORDER}
        self._waiters: dict[Priority, dict[int, Waiter]] = {
            priority: {} for priority in PRIORITY_ORDER
        }

    def __len__(self) -> int:
        return sum(len(arrivals) for arrivals in self._arrivals.values())

    def push(self, waiter: Waiter) -> None:
        """Queue a waiter at its place (its arrival number must not be queued already)."""
        arrivals = self._arrivals[waiter.priority]
        if waiter.arrival in self._waiters[waiter.priority]:
            raise ValueError(f"arrival {waiter.arrival} is queued already")
        bisect.insort(arrivals, waiter.arrival)
        self._waiters[waiter.priority][waiter.arrival] = waiter
        self.high_watermark = max(self.high_watermark, min(len(self), self.limit))

    def remove(self, waiter: Waiter) -> bool:
        """Take a waiter out of the queue; False when it was not queued."""
        waiters = self._waiters[waiter.priority]
        if waiters.get(waiter.arrival) is not waiter:
            return False
        del waiters[waiter.arrival]
        arrivals = self._arrivals[waiter.priority]
        del arrivals[bisect.bisect_left(arrivals, waiter.arrival)]
        return True

    def in_order(self) -> Iterator[Waiter]:
        """The waiters in the order they are served (removing one while iterating is safe)."""
        for priority in PRIORITY_ORDER:
            waiters = self._waiters[priority]
            for arrival in list(self._arrivals[priority]):
                waiter = waiters.get(arrival)
                if waiter is not None:
                    yield waiter

    def overflow(self) -> Waiter | None:
        """When over the limit, remove and return the newest waiter of the lowest priority."""
        if len(self) <= self.limit:
            return None
        for priority in reversed(PRIORITY_ORDER):
            arrivals = self._arrivals[priority]
            if arrivals:
                waiter = self._waiters[priority][arrivals[-1]]
                self.remove(waiter)
                return waiter
        return None  # pragma: no cover - len(self) > limit >= 0 means one is queued

    def depth_by_priority(self) -> dict[Priority, int]:
        """How many wait at each priority."""
        return {priority: len(self._arrivals[priority]) for priority in PRIORITY_ORDER}

    def ahead_of(self, priority: Priority) -> int:
        """How many wait at `priority` or a more urgent one."""
        count = 0
        for queued in PRIORITY_ORDER:
            count += len(self._arrivals[queued])
            if queued == priority:
                break
        return count
