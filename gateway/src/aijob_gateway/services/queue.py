"""Queue statistics of one tenant, computed from the cached jobs (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from aijob_api.conditions import Phase
from aijob_api.models import AIJob, Priority

from aijob_gateway.schemas.queue import QueueStats, WaitingReason
from aijob_gateway.services.listing import job_framework, job_phase

WAITING_PHASES = frozenset({Phase.PENDING, Phase.QUEUED, Phase.RETRYING})
NOT_SEEN_REASON = "NotSeenByOperator"
"""Reason shown for a job the operator has not written a status for yet."""


def queue_stats(namespace: str, jobs: Sequence[AIJob], now: datetime | None = None) -> QueueStats:
    """Depth by priority and framework, running jobs, and why the waiting ones wait."""
    now = now or datetime.now(UTC)
    by_phase: Counter[str] = Counter()
    waiting_by_priority: Counter[str] = Counter({priority.value: 0 for priority in Priority})
    waiting_by_framework: Counter[str] = Counter()
    running_by_framework: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    examples: dict[str, str] = {}
    oldest: datetime | None = None
    for job in jobs:
        phase = job_phase(job)
        by_phase[phase.value] += 1
        framework = job_framework(job).value
        if phase is Phase.RUNNING:
            running_by_framework[framework] += 1
        if phase not in WAITING_PHASES:
            continue
        waiting_by_priority[job.spec.priority.value] += 1
        waiting_by_framework[framework] += 1
        reason = job.status.reason or (NOT_SEEN_REASON if job.status.phase is None else phase.value)
        reasons[reason] += 1
        if job.status.message and reason not in examples:
            examples[reason] = job.status.message
        created = job.metadata.creation_timestamp
        if created is not None and (oldest is None or created < oldest):
            oldest = created
    waiting = sum(reasons.values())
    return QueueStats(
        namespace=namespace,
        total=len(jobs),
        waiting=waiting,
        running=by_phase.get(Phase.RUNNING.value, 0),
        by_phase=dict(by_phase),
        waiting_by_priority=dict(waiting_by_priority),
        waiting_by_framework=dict(waiting_by_framework),
        running_by_framework=dict(running_by_framework),
        waiting_reasons=[
            WaitingReason(reason=reason, count=count, example_message=examples.get(reason))
            for reason, count in reasons.most_common()
        ],
        oldest_waiting_seconds=(now - oldest).total_seconds() if oldest else None,
    )
