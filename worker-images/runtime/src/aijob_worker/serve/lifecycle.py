"""The server's phase (loading, ready, draining) and the inference requests it holds.

Inference requests are admitted only while `ready` (503 otherwise) and up to
`max_concurrency` at once (429 beyond). On SIGTERM the phase turns `draining`
first, so readiness fails and new requests are refused, then the drain waits
for the held requests to be answered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from enum import StrEnum

from aijob_worker.serve.errors import overloaded, unavailable
from aijob_worker.serve.metrics import ServeMetrics


class Phase(StrEnum):
    """Where the server is in its life."""

    LOADING = "loading"
    """Listening (health answers), the model not loaded yet."""
    READY = "ready"
    """The model is loaded; inference is answered."""
    DRAINING = "draining"
    """SIGTERM arrived: held requests finish, new ones are refused."""
    FAILED = "failed"
    """The model could not be loaded; the process is exiting."""


class Lifecycle:
    """Phase and admission of inference requests (used from the event loop only)."""

    def __init__(self, max_concurrency: int, metrics: ServeMetrics) -> None:
        self.max_concurrency = max_concurrency
        self.phase = Phase.LOADING
        self.in_flight = 0
        self._metrics = metrics
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def ready(self) -> bool:
        """Whether inference requests are admitted (the readiness probe)."""
        return self.phase is Phase.READY

    def model_loaded(self) -> None:
        """The model is loaded: ready (unless a drain began meanwhile)."""
        if self.phase is Phase.LOADING:
            self._set(Phase.READY)

    def load_failed(self) -> None:
        """The model could not be loaded."""
        self._set(Phase.FAILED)

    def begin_drain(self) -> bool:
        """Turn not ready; False when a drain had already begun."""
        if self.phase is Phase.DRAINING:
            return False
        self._set(Phase.DRAINING)
        return True

    async def wait_idle(self, time_limit: float) -> bool:
        """Wait until no request is held; False when `time_limit` seconds passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), time_limit)
        except TimeoutError:
            return False
        return True

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        """Hold one inference request; refused with 503 or 429 when it cannot be taken."""
        if self.phase is not Phase.READY:
            raise unavailable(f"the model is {self.phase.value}")
        if self.in_flight >= self.max_concurrency:
            raise overloaded(self.max_concurrency)
        self.in_flight += 1
        self._idle.clear()
        self._metrics.in_flight.set(self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1
            self._metrics.in_flight.set(self.in_flight)
            if self.in_flight == 0:
                self._idle.set()

    def _set(self, phase: Phase) -> None:
        self.phase = phase
        self._metrics.ready.set(1 if phase is Phase.READY else 0)
