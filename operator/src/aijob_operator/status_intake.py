"""What the status server decides about accepted reports, pure (an injected clock).

- `PodLimits`: per pod (by uid), a token bucket (rate and burst) and the last sequence
  accepted, so a flood is refused with the time to wait and an older report than one
  already taken is dropped; a pod's entry goes with its final report or after it was idle
  for `idle_seconds` (memory stays bounded by the pods reporting now).
- `Coalescer`: per AIJob, the parts of the reports not yet written, merged (each part
  replaced whole, `ranks` key by key), and when the next write may go: at most one every
  `interval` seconds; a final report takes what is pending with it at once.

Merging parts and the JSON patch of a write (whose first operation tests the AIJob's uid,
so a re-created namesake never receives an old job's parts) are `aijob_api.status_patch`'s,
the same rule as a worker writing its status itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aijob_api.status_patch import merge_status_parts

Key = tuple[str, str]
"""(namespace, name) of an AIJob."""


@dataclass
class _PodState:
    tokens: float
    updated: float
    sequence: int = -1


class PodLimits:
    """Rate (token bucket) and sequence of each reporting pod, by the pod's uid."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float],
        *,
        idle_seconds: float = 600.0,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self.idle_seconds = idle_seconds
        self._pods: dict[str, _PodState] = {}

    def __len__(self) -> int:
        return len(self._pods)

    def take(self, pod_uid: str) -> float:
        """Spend one report of the pod's budget: 0.0 when allowed, else seconds to wait."""
        now = self._clock()
        state = self._pods.get(pod_uid)
        if state is None:
            state = self._pods[pod_uid] = _PodState(tokens=float(self.burst), updated=now)
        state.tokens = min(float(self.burst), state.tokens + (now - state.updated) * self.rate)
        state.updated = now
        if state.tokens >= 1.0:
            state.tokens -= 1.0
            return 0.0
        return (1.0 - state.tokens) / self.rate

    def is_stale(self, pod_uid: str, sequence: int) -> bool:
        """Whether a report is older than one this pod already had taken."""
        state = self._pods.get(pod_uid)
        return state is not None and sequence < state.sequence

    def taken(self, pod_uid: str, sequence: int) -> None:
        """Remember the sequence of a report taken (the highest so far)."""
        state = self._pods.get(pod_uid)
        if state is None:
            state = self._pods[pod_uid] = _PodState(tokens=float(self.burst), updated=self._clock())
        state.sequence = max(state.sequence, sequence)

    def forget(self, pod_uid: str) -> None:
        """Drop a pod's entry (its final report was written)."""
        self._pods.pop(pod_uid, None)

    def sweep(self) -> int:
        """Drop the pods idle for `idle_seconds` (a full bucket by then); how many."""
        now = self._clock()
        idle = [uid for uid, s in self._pods.items() if now - s.updated >= self.idle_seconds]
        for uid in idle:
            del self._pods[uid]
        return len(idle)


@dataclass
class Pending:
    """What one AIJob's next write holds."""

    uid: str
    parts: dict[str, Any] = field(default_factory=dict)
    reports: int = 0
    """How many reports were merged into it."""


class Coalescer:
    """Per AIJob: the pending parts, and the time of the last write (for the interval)."""

    def __init__(self, interval: float, clock: Callable[[], float]) -> None:
        self.interval = interval
        self._clock = clock
        self._pending: dict[Key, Pending] = {}
        self._last_write: dict[Key, float] = {}
        self._scheduled: set[Key] = set()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, key: Key, uid: str, parts: Mapping[str, Any]) -> float | None:
        """Merge a report's parts; the delay before the job's next write when one must now be
        scheduled, None when one is scheduled already. Another uid's pending parts (a
        re-created job) are dropped: they can never be written into this one."""
        pending = self._pending.get(key)
        if pending is None or pending.uid != uid:
            pending = self._pending[key] = Pending(uid)
        pending.parts = merge_status_parts(pending.parts, parts)
        pending.reports += 1
        if key in self._scheduled:
            return None
        self._scheduled.add(key)
        return self.delay(key)

    def delay(self, key: Key) -> float:
        """Seconds until the job may be written again (0: now)."""
        last = self._last_write.get(key)
        if last is None:
            return 0.0
        return max(0.0, last + self.interval - self._clock())

    def take(self, key: Key) -> Pending | None:
        """What to write now (the scheduled write is due); the job counts as written now."""
        self._scheduled.discard(key)
        pending = self._pending.pop(key, None)
        if pending is not None:
            self._last_write[key] = self._clock()
        return pending

    def take_final(self, key: Key, uid: str, parts: Mapping[str, Any]) -> Pending:
        """A final report: what is pending for this uid, with its parts over it, at once (a
        scheduled write then finds nothing)."""
        pending = self._pending.pop(key, None)
        if pending is None or pending.uid != uid:
            pending = Pending(uid)
        pending.parts = merge_status_parts(pending.parts, parts)
        pending.reports += 1
        self._last_write[key] = self._clock()
        return pending

    def put_back(self, key: Key, pending: Pending) -> float | None:
        """A write that failed: its parts pending again, under any that came since."""
        newer = self._pending.get(key)
        if newer is not None and newer.uid == pending.uid:
            pending.parts = merge_status_parts(pending.parts, newer.parts)
            pending.reports += newer.reports
        self._pending[key] = pending
        if key in self._scheduled:
            return None
        self._scheduled.add(key)
        return max(self.delay(key), math.ulp(1.0))

    def forget(self, key: Key) -> None:
        """Drop everything of a job (deleted, or ended and written)."""
        self._pending.pop(key, None)
        self._scheduled.discard(key)
        self._last_write.pop(key, None)

    def idle_jobs(self) -> list[Key]:
        """Jobs with nothing pending and no write scheduled, whose last write is over
        `interval` ago (their entry only paces writes that no longer come)."""
        now = self._clock()
        return [
            key
            for key, last in self._last_write.items()
            if key not in self._pending and key not in self._scheduled
            and now - last > self.interval
        ]  # fmt: skip
