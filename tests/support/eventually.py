"""One way to wait in tests: `eventually(check, timeout=Timeout.X)`, never a bare sleep.

`check` is called until it returns a truthy value (which `eventually` returns) or
stops raising AssertionError; when the timeout passes, the last failure is raised
inside a TimeoutError that says what was awaited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum
from typing import TypeVar

T = TypeVar("T")


class Timeout(IntEnum):
    """Named timeouts (seconds); pick the one that says what is awaited."""

    API = 15
    """An API object to appear, change or go (watch latency, a controller's reaction)."""
    SCHEDULING = 45
    """A pod to be scheduled or reported unschedulable, a preemption to happen."""
    SIMULATED_JOB = 90
    """A Job on KWOK nodes to run through its pod lifecycle, retries included."""
    REAL_POD = 240
    """A pod on the real node to start from a local image and finish a short command."""
    REAL_TRAINING = 600
    """A real training or inference run in a worker pod."""


class EventuallyTimeoutError(TimeoutError):
    """The awaited condition did not come true in time."""


def eventually(
    check: Callable[[], T],
    *,
    timeout: float,
    interval: float = 0.25,
    what: str | None = None,
) -> T:
    """Call `check` until it returns something truthy without raising AssertionError."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    last_value: T | None = None
    while True:
        try:
            last_value = check()
            if last_value:
                return last_value
            last_error = None
        except AssertionError as error:
            last_error = error
        if time.monotonic() >= deadline:
            description = what or getattr(check, "__name__", "condition")
            detail = f": {last_error}" if last_error else f"; last value {last_value!r}"
            raise EventuallyTimeoutError(
                f"{description} not true after {timeout:.0f}s{detail}"
            ) from (last_error)
        time.sleep(interval)
