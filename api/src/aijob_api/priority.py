"""Job priorities and the PriorityClass each maps to: the one table of names and values.

The operator puts `priority_class(priority)` on every worker pod; the Helm chart's
PriorityClasses, the test clusters' and docs/api.md use the same names and values
(unit tests fail when the chart or the docs drift from `PRIORITY_LEVELS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Priority(StrEnum):
    """Scheduling priority; each maps to a PriorityClass."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


@dataclass(frozen=True)
class PriorityLevel:
    """One priority and its PriorityClass."""

    priority: Priority
    value: int
    """The PriorityClass value: a pod of a higher one may preempt pods of lower ones."""

    @property
    def class_name(self) -> str:
        """Name of the PriorityClass (cluster-wide, created by the Helm chart)."""
        return f"aijob-{self.priority.value}"


PRIORITY_LEVELS: Final[tuple[PriorityLevel, ...]] = (
    PriorityLevel(Priority.HIGH, 1000),
    PriorityLevel(Priority.NORMAL, 100),
    PriorityLevel(Priority.LOW, 10),
)
"""Every priority, highest first."""

_BY_PRIORITY: Final = {level.priority: level for level in PRIORITY_LEVELS}


def priority_level(priority: Priority) -> PriorityLevel:
    """The table's entry of one priority."""
    return _BY_PRIORITY[priority]


def priority_class(priority: Priority) -> str:
    """The PriorityClass a job of this priority runs with."""
    return _BY_PRIORITY[priority].class_name
