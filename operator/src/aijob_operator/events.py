"""Kubernetes Events posted in the background, off the reconcile path.

A transition's Event must not hold up the reconcile worker that recorded it (it is
one more API round trip, on a busy API server one of the slowest). Events are best
effort, as everywhere in Kubernetes: a full queue drops the newest and counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from aijob_api.constants import KIND
from prometheus_client import Counter

logger = logging.getLogger(__name__)

DROPPED: Final = Counter(
    "aijob_operator_events_dropped_total",
    "Events not posted because the queue was full or the API server refused them.",
)


@dataclass(frozen=True)
class PendingEvent:
    """An Event to post on an AIJob (or an AIEndpoint)."""

    namespace: str
    name: str
    uid: str | None
    type: str
    reason: str
    message: str
    kind: str = KIND
    """The kind of the object the Event is about (an AIJob, an AIEndpoint)."""


class EventPoster:
    """A bounded queue of Events and the tasks that post them."""

    def __init__(
        self, send: Callable[[PendingEvent], Awaitable[None]], capacity: int = 10_000
    ) -> None:
        self._send = send
        self._queue: asyncio.Queue[PendingEvent] = asyncio.Queue(maxsize=capacity)

    def post(self, event: PendingEvent) -> None:
        """Queue an Event; never waits."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            DROPPED.inc()

    def __len__(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Post queued Events, forever."""
        while True:
            event = await self._queue.get()
            try:
                await self._send(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                DROPPED.inc()
                logger.exception("posting %s on %s/%s", event.reason, event.namespace, event.name)
            finally:
                self._queue.task_done()

    async def drain(self, within: float) -> None:
        """Give queued Events a moment to go out (at shutdown)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), within)
