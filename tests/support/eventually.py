"""One way to wait in tests: `eventually(check, timeout=Timeout.X)`, never a bare sleep.

In a coroutine, `await eventually_async(check, timeout=...)` waits the same way
without blocking the event loop that runs the awaited work.

`check` is called until it returns a truthy value (which `eventually` returns) or
stops raising AssertionError; when the timeout passes, the last failure is raised
inside a TimeoutError that says what was awaited.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from enum import IntEnum
from typing import TypeVar, cast

T = TypeVar("T")


class Timeout(IntEnum):
    """Named timeouts (seconds); pick the one that says what is awaited."""

    API = 15
    """An API object to appear, change or go (watch latency, a controller's reaction)."""
    SCHEDULING = 45
    """A pod to be scheduled or reported unschedulable, a preemption to happen."""
    PROCESS = 60
    """A local process (a model server, a worker) to start and answer, or to stop."""
    SIMULATED_JOB = 90
    """A Job on KWOK nodes to run through its pod lifecycle, retries included."""
    REAL_POD = 240
    """A pod on the real node to start from a local image and finish a short command."""
    REAL_TRAINING = 600
    """A real training or inference run in a worker pod."""


class EventuallyTimeoutError(TimeoutError):
    """The awaited condition did not come true in time."""


class _Poll:
    """The checks of one wait: each `settled()` calls `check` once."""

    def __init__(self, check: Callable[[], object], timeout: float, what: str | None) -> None:
        self.check = check
        self.timeout = timeout
        self.what = what
        self.deadline = time.monotonic() + timeout
        self.value: object = None
        self.error: BaseException | None = None

    def settled(self) -> bool:
        """True once `check` passed; raises EventuallyTimeoutError when the time is up."""
        try:
            self.value = self.check()
            if self.value:
                return True
            self.error = None
        except AssertionError as error:
            self.error = error
        if time.monotonic() >= self.deadline:
            description = self.what or getattr(self.check, "__name__", "condition")
            detail = f": {self.error}" if self.error else f"; last value {self.value!r}"
            raise EventuallyTimeoutError(
                f"{description} not true after {self.timeout:.0f}s{detail}"
            ) from (self.error)
        return False


def eventually(
    check: Callable[[], T],
    *,
    timeout: float,
    interval: float = 0.25,
    what: str | None = None,
) -> T:
    """Call `check` until it returns something truthy without raising AssertionError."""
    poll = _Poll(check, timeout, what)
    while not poll.settled():
        time.sleep(interval)
    return cast(T, poll.value)


async def eventually_async(
    check: Callable[[], T],
    *,
    timeout: float,  # noqa: ASYNC109 - the same call as eventually()'s
    interval: float = 0.001,
    what: str | None = None,
) -> T:
    """`eventually` in a coroutine: the event loop runs other tasks between the checks."""
    poll = _Poll(check, timeout, what)
    # Polling is the point: the checks read state that no event announces.
    while not poll.settled():  # noqa: ASYNC110
        await asyncio.sleep(interval)
    return cast(T, poll.value)
