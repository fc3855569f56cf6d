"""Status transitions shared by the AIJob and AIEndpoint decisions: when a condition flips,
which fields of a status changed, and the Event a change of phase or reason deserves.

Pure: no Kubernetes client and no kopf; `decide` and `endpoint_decide` build on it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from aijob_api.status import StandardCondition
from pydantic import BaseModel


@dataclass(frozen=True)
class TransitionEvent:
    """A Kubernetes Event to post on the AIJob or AIEndpoint."""

    type: str
    reason: str
    message: str
    posted: bool = True
    """False: a routine step the status itself shows, counted and logged but not posted."""


def transition_time(old: StandardCondition | None, status: str, now: datetime) -> datetime | None:
    """When a condition last flipped: now if it flips now (or is new), else when it did."""
    return now if old is None or old.status != status else old.last_transition_time


class PhasedStatus(Protocol):
    """A status with a phase, a reason and a message (an AIJob's, an AIEndpoint's)."""

    @property
    def phase(self) -> StrEnum | None:
        """The one-word state."""

    @property
    def reason(self) -> str | None:
        """Why, in one CamelCase word."""

    @property
    def message(self) -> str | None:
        """Why, in words."""


def transition_event(
    current: PhasedStatus,
    desired: PhasedStatus,
    warning_reasons: frozenset[str],
    quiet_reasons: frozenset[str] = frozenset(),
) -> TransitionEvent | None:
    """The Event for a change of phase or reason (a Warning for `warning_reasons`, else
    Normal; not posted for `quiet_reasons`); None when neither changed."""
    if (current.phase, current.reason) == (desired.phase, desired.reason):
        return None
    reason = desired.reason or (desired.phase.value if desired.phase else "Unknown")
    kind = "Warning" if reason in warning_reasons else "Normal"
    phase = desired.phase.value if desired.phase else "Unknown"
    message = f"{phase}: {desired.message or reason}"
    return TransitionEvent(kind, reason, message, posted=reason not in quiet_reasons)


def changed_fields(
    current: BaseModel, desired: BaseModel, fields: Collection[str]
) -> dict[str, Any]:
    """The merge patch (camelCase) of the `fields` of two statuses that differ; empty if none."""
    now = current.model_dump(mode="json", by_alias=True, include=set(fields))
    then = desired.model_dump(mode="json", by_alias=True, include=set(fields))
    return {key: value for key, value in then.items() if now.get(key) != value}
