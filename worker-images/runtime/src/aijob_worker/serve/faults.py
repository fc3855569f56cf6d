"""Failure injection for tests (seed 004's simulated crashes and timeouts): off unless enabled.

Only when the environment sets `AIJOB_SERVE_FAULT_INJECTION=1` does the server
read the `X-Aijob-Fault` header of an inference request (`error`, `error=503`,
`delay=250` in ms, `exit`) and offer `GET|PUT|DELETE /admin/faults`, a rule for
the next requests: `{"mode": "error"|"delay"|"exit", "count": 3, "probability":
0.05, "delayMs": 800, "status": 500}` (`count: null` keeps it until deleted).

`error` answers the status (a problem with slug `injected-fault`); `delay` holds
the request that long, then answers it normally; `exit` ends the process at
once with code 1, answering nothing, as a crash does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from aijob_worker.serve.errors import ServeError, invalid
from aijob_worker.serve.metrics import ServeMetrics

ENV_FAULT_INJECTION: Final = "AIJOB_SERVE_FAULT_INJECTION"
FAULT_HEADER: Final = "X-Aijob-Fault"
CRASH_EXIT_CODE: Final = 1

logger = logging.getLogger(__name__)


class FaultMode(StrEnum):
    """What an injected fault does."""

    ERROR = "error"
    DELAY = "delay"
    EXIT = "exit"


class FaultRule(BaseModel):
    """Faults for the next inference requests."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    mode: FaultMode
    count: Annotated[int | None, Field(ge=1, description="Requests it applies to.")] = 1
    probability: Annotated[float, Field(gt=0, le=1, description="Share of requests hit.")] = 1.0
    delay_ms: Annotated[float, Field(ge=0, le=600_000, description="Delay of `delay`.")] = 1000.0
    status: Annotated[int, Field(ge=500, le=599, description="Status of `error`.")] = 500


@dataclass(frozen=True)
class Fault:
    """One fault to inject into one request."""

    mode: FaultMode
    delay_ms: float = 0.0
    status: int = 500


def fault_injection_enabled(env: Mapping[str, str]) -> bool:
    """Whether the environment turns failure injection on."""
    return env.get(ENV_FAULT_INJECTION, "").strip().lower() in ("1", "true", "yes")


class FaultInjector:
    """Decides which requests get a fault, and injects it."""

    def __init__(self, *, enabled: bool, metrics: ServeMetrics, seed: int | None = None) -> None:
        self.enabled = enabled
        self.rule: FaultRule | None = None
        self.remaining: int | None = None
        self._metrics = metrics
        self._random = random.Random(seed)  # noqa: S311 - test traffic, not security

    def set_rule(self, rule: FaultRule) -> None:
        """Apply `rule` to the next requests (replacing any other)."""
        self.rule, self.remaining = rule, rule.count

    def clear(self) -> None:
        """No more faults."""
        self.rule, self.remaining = None, None

    def state(self) -> dict[str, Any]:
        """The rule in force and the requests it has left."""
        rule = self.rule.model_dump(mode="json", by_alias=True) if self.rule else None
        return {"enabled": self.enabled, "rule": rule, "remaining": self.remaining}

    def next_fault(self, header: str | None) -> Fault | None:
        """The fault for this request: its header's, else the rule's draw, else none."""
        if not self.enabled:
            return None
        if header:
            return parse_fault_header(header)
        rule = self.rule
        if rule is None or self._random.random() >= rule.probability:
            return None
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.clear()
        return Fault(rule.mode, rule.delay_ms, rule.status)

    async def inject(self, fault: Fault) -> None:
        """Do what the fault says: wait, fail the request, or end the process."""
        self._metrics.injected_faults.labels(mode=fault.mode.value).inc()
        if fault.mode is FaultMode.DELAY:
            await asyncio.sleep(fault.delay_ms / 1000)
            return
        if fault.mode is FaultMode.ERROR:
            raise ServeError(
                fault.status,
                "injected-fault",
                "Injected fault",
                f"a fault injected for tests ({ENV_FAULT_INJECTION} is on)",
            )
        logger.warning("injected crash: exiting now", extra={"event": "injected-exit"})
        logging.shutdown()
        os._exit(CRASH_EXIT_CODE)


def parse_fault_header(value: str) -> Fault:
    """`error`, `error=503`, `delay=250` (ms) or `exit`; anything else is invalid input."""
    mode_text, _, argument = value.strip().partition("=")
    try:
        mode = FaultMode(mode_text.strip().lower())
        number = float(argument) if argument else None
    except ValueError as error:
        raise invalid(FAULT_HEADER, "use error, error=STATUS, delay=MS or exit") from error
    if mode is FaultMode.ERROR:
        status = int(number) if number is not None else 500
        if not 500 <= status <= 599:
            raise invalid(FAULT_HEADER, "an injected error's status is 500 to 599")
        return Fault(mode, status=status)
    if mode is FaultMode.DELAY:
        if number is None or not 0 <= number <= 600_000:
            raise invalid(FAULT_HEADER, "delay=MS with MS from 0 to 600000")
        return Fault(mode, delay_ms=number)
    return Fault(mode)
