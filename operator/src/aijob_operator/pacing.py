"""Space one AIJob's status writes: what changes faster than a second is shown once.

On a busy cluster every write costs the API server (and etcd, and every watcher)
the same; a job whose pod is scheduled, started and finished within a second
need not be written Queued, then Running, then Succeeded. Non-final states are
written at most once per interval (the first one an interval after the Job was
created); a final state (Succeeded, Failed, Cancelled) is written at once. The
level-based reconcile makes this safe: a deferred write is a requeue, and what
is written then is the state at that moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class StatusPacer:
    """Remembers when each job's status was last written (in memory only)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: dict[Hashable, float] = {}

    def __len__(self) -> int:
        return len(self._last)

    def started(self, key: Hashable) -> None:
        """The job's Job was just created: its first status waits an interval too."""
        if self._interval > 0:
            self._last[key] = self._clock()

    def wait(self, key: Hashable, final: bool) -> float:
        """Seconds until a status may be written; 0 when it may be written now."""
        if final or self._interval <= 0:
            return 0.0
        last = self._last.get(key)
        if last is None:
            return 0.0
        return max(0.0, last + self._interval - self._clock())

    def wrote(self, key: Hashable, final: bool) -> None:
        """A status was written; a final one ends the job's pacing."""
        if final or self._interval <= 0:
            self._last.pop(key, None)
        else:
            self._last[key] = self._clock()

    def forget(self, key: Hashable) -> None:
        """The job is gone."""
        self._last.pop(key, None)
