"""Each endpoint's load, published into its status for the operator's autoscaler; throttled.

What this gateway pod holds for an endpoint (its dispatcher's requests in flight on a
replica or queued: `in_progress`) and the requests it answered per second over a short
window are written into `status.gatewayLoad.<this pod's name>` with a merge patch,
which touches only that entry: several gateway pods each publish their own share, and
the operator sums the fresh ones. The same patch sets `inFlight`, `requestsPerSecond`
and `loadUpdatedAt` to the sum of the fresh entries this pod knows (its own, and the
others' as its endpoint cache has them): the figures `kubectl get aiendpoints` shows,
exact with one gateway pod and at most one publish behind with several. It also removes
the entries of gateway pods gone long ago.

Throttled: one patch per endpoint at most every `interval`, and only when the figures
changed, except a refresh every `refresh` seconds that keeps the entry fresh (the
operator holds the replicas when no entry is fresh). `LoadTracker` is the pure part
(time injected); `EndpointLoadPublisher` reads the dispatchers and the endpoint cache
and writes through the endpoint store (`EndpointStore.patch_status`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aijob_api.endpoint_status import AIEndpointStatus

from aijob_gateway.dispatch.registry import DispatcherRegistry, EndpointKey
from aijob_gateway.dispatch.stats import DispatchStats
from aijob_gateway.errors import GatewayError
from aijob_gateway.kube.endpoint_cache import EndpointCache

log = logging.getLogger(__name__)

FRESH_REFRESHES = 3
"""Another pod's entry counts in the sums while younger than this many refresh periods."""
PRUNE_REFRESHES = 10
"""Another pod's entry older than this many refresh periods is removed."""

WriteStatus = Callable[[str, str, str | None, dict[str, Any]], Awaitable[None]]
"""`(namespace, name, uid, status patch)`: `EndpointStore.patch_status`."""


@dataclass(frozen=True)
class LoadFigures:
    """One endpoint's load as this gateway pod sees it."""

    in_flight: int
    requests_per_second: float


@dataclass
class _Track:
    samples: deque[tuple[float, int]] = field(default_factory=deque)
    """(time, requests answered so far), oldest first, within the window."""
    published: LoadFigures | None = None
    published_at: float | None = None


class LoadTracker:
    """Per endpoint: the answer rate over a window, and when its figures are due."""

    def __init__(self, window: float, interval: float, refresh: float) -> None:
        self._window = window
        self._interval = interval
        self._refresh = refresh
        self._tracks: dict[EndpointKey, _Track] = {}

    def observe(self, key: EndpointKey, stats: DispatchStats, now: float) -> LoadFigures | None:
        """Take one sample of the endpoint's dispatcher; the figures to publish now, if due."""
        track = self._tracks.setdefault(key, _Track())
        track.samples.append((now, stats.answered))
        while len(track.samples) > 1 and track.samples[0][0] < now - self._window:
            track.samples.popleft()
        first_time, first_answered = track.samples[0]
        elapsed = now - first_time
        rate = (stats.answered - first_answered) / elapsed if elapsed > 0 else 0.0
        figures = LoadFigures(stats.in_progress, round(rate, 2))
        if track.published_at is None:
            return figures
        since = now - track.published_at
        if since >= self._refresh or (figures != track.published and since >= self._interval):
            return figures
        return None

    def published(self, key: EndpointKey, figures: LoadFigures, now: float) -> None:
        """The figures were written."""
        track = self._tracks.setdefault(key, _Track())
        track.published, track.published_at = figures, now

    def failed(self, key: EndpointKey, now: float) -> None:
        """The write failed: try again after the interval, whatever the figures."""
        track = self._tracks.setdefault(key, _Track())
        track.published, track.published_at = None, now

    def keep_only(self, keys: set[EndpointKey]) -> None:
        """Forget the endpoints that have no dispatcher any more."""
        for key in set(self._tracks) - keys:
            del self._tracks[key]


def load_patch(
    instance: str,
    figures: LoadFigures,
    status: AIEndpointStatus,
    now: datetime,
    refresh: float,
) -> dict[str, Any]:
    """The status merge patch: this pod's entry, the sums of the fresh entries, and null for
    the entries of pods gone long ago."""
    now = now.replace(microsecond=0)
    in_flight, rate = figures.in_flight, figures.requests_per_second
    entries: dict[str, Any] = {
        instance: {
            "inFlight": in_flight,
            "requestsPerSecond": rate,
            "updatedAt": now.isoformat().replace("+00:00", "Z"),
        }
    }
    for name, entry in status.gateway_load.items():
        if name == instance:
            continue
        age = (now - entry.updated_at).total_seconds()
        if age > PRUNE_REFRESHES * refresh:
            entries[name] = None
        elif age <= FRESH_REFRESHES * refresh:
            in_flight += entry.in_flight
            rate += entry.requests_per_second
    return {
        "gatewayLoad": entries,
        "inFlight": in_flight,
        "requestsPerSecond": round(rate, 2),
        "loadUpdatedAt": entries[instance]["updatedAt"],
    }


class EndpointLoadPublisher:
    """Publishes the load of every endpoint this gateway pod has a dispatcher for."""

    def __init__(
        self,
        instance: str,
        dispatchers: DispatcherRegistry[Any, Any],
        cache: EndpointCache,
        write: WriteStatus,
        tracker: LoadTracker,
        *,
        refresh: float,
        tick: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._instance = instance
        self._dispatchers = dispatchers
        self._cache = cache
        self._write = write
        self._tracker = tracker
        self._refresh = refresh
        self._tick = tick
        self._clock = clock
        self._wall_clock = wall_clock

    async def run(self) -> None:
        """Publish what is due, every tick, until cancelled."""
        while True:
            try:
                await self.publish_due()
            except Exception:  # a bug here must not stop the publishing, nor the gateway
                log.exception("publishing the endpoints' load failed")
            await asyncio.sleep(self._tick)

    async def publish_due(self) -> int:
        """Write the figures that are due; return how many endpoints were written."""
        written = 0
        keys: set[EndpointKey] = set()
        for entry in self._dispatchers:
            key = (entry.namespace, entry.endpoint)
            keys.add(key)
            endpoint = self._cache.get(*key)
            if endpoint is None or endpoint.metadata.deletion_timestamp is not None:
                continue
            now = self._clock()
            figures = self._tracker.observe(key, entry.dispatcher.stats(), now)
            if figures is None:
                continue
            patch = load_patch(
                self._instance, figures, endpoint.status, self._wall_clock(), self._refresh
            )
            try:
                await self._write(*key, endpoint.metadata.uid, patch)
            except GatewayError as error:  # tried again after the interval
                log.warning("publishing the load of AIEndpoint %s/%s failed: %s", *key, error)
                self._tracker.failed(key, now)
                continue
            self._tracker.published(key, figures, now)
            written += 1
        self._tracker.keep_only(keys)
        return written
