"""Body of the queue statistics route."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from aijob_gateway.schemas.base import ApiModel


class WaitingReason(ApiModel):
    """Why some jobs wait, with how many and one example message."""

    reason: str
    count: int
    example_message: str | None = None


class QueueStats(ApiModel):
    """The tenant's queue at a glance, as the seeds' queue statistics showed it."""

    namespace: str
    total: Annotated[int, Field(description="All jobs of the namespace.")]
    waiting: Annotated[int, Field(description="Jobs not running yet (Pending, Queued, Retrying).")]
    running: int
    by_phase: dict[str, int]
    waiting_by_priority: Annotated[
        dict[str, int], Field(description="Queue depth per priority (high, normal, low).")
    ]
    waiting_by_framework: Annotated[dict[str, int], Field(description="Queue depth per framework.")]
    running_by_framework: dict[str, int]
    waiting_reasons: list[WaitingReason]
    oldest_waiting_seconds: Annotated[
        float | None, Field(description="Age of the job that has waited longest.")
    ] = None
