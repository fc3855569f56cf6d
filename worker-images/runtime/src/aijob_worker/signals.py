"""SIGTERM handling: record the request to stop; the training loop acts on it.

Kubernetes sends SIGTERM when a pod is deleted, evicted or preempted, then
SIGKILL after the grace period. The handler only sets a flag: the runner checks
it between steps, saves a checkpoint, reports it, and the worker exits with
`EXIT_INTERRUPTED` (143) so the next attempt resumes from the checkpoint.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

logger = logging.getLogger(__name__)


class StopFlag:
    """Set once a stop was requested; cheap to check from a training loop."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None

    def request(self, reason: str = "request") -> None:
        """Ask the job to stop at its next safe point."""
        if not self._event.is_set():
            self.signal_name = reason
            self._event.set()

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return self._event.is_set()


def install_sigterm_handler(flag: StopFlag) -> None:
    """Route SIGTERM to `flag` (main thread only, as Python requires)."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        logger.warning("received %s: stopping at the next safe point", name)
        flag.request(name)

    signal.signal(signal.SIGTERM, handle)
