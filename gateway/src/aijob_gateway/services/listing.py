"""Filtering and paging the job list (pure: works on a snapshot of the cache)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aijob_api.conditions import Phase
from aijob_api.models import AIJob, Priority, Task
from aijob_api.routing import Framework

from aijob_gateway.errors import BadRequestError
from aijob_gateway.kube.job_cache import newest_first_key
from aijob_gateway.services.pagination import (
    Cursor,
    decode_cursor,
    encode_cursor,
    filters_digest,
)
from aijob_gateway.services.selectors import LabelSelector, parse_selector


@dataclass(frozen=True)
class JobFilters:
    """What the client asked to see."""

    phase: Phase | None = None
    task: Task | None = None
    framework: Framework | None = None
    priority: Priority | None = None
    label: str | None = None

    def digest(self) -> str:
        """Digest of the filters, bound into continue tokens."""
        return filters_digest(
            {
                "phase": self.phase,
                "task": self.task,
                "framework": self.framework,
                "priority": self.priority,
                "label": self.label,
            }
        )


def job_phase(job: AIJob) -> Phase:
    """The job's phase; a job the operator has not seen yet counts as Pending."""
    return job.status.phase or Phase.PENDING


def job_framework(job: AIJob) -> Framework:
    """The framework the job runs on (as the operator resolved it, else as routed)."""
    return job.status.framework or job.spec.resolved_framework


def matches(job: AIJob, filters: JobFilters, selector: LabelSelector) -> bool:
    """Whether one job passes every filter."""
    return (
        (filters.phase is None or job_phase(job) == filters.phase)
        and (filters.task is None or job.spec.task == filters.task)
        and (filters.framework is None or job_framework(job) == filters.framework)
        and (filters.priority is None or job.spec.priority == filters.priority)
        and selector.matches(job.metadata.labels)
    )


@dataclass(frozen=True)
class Page:
    """One page of the filtered list."""

    items: list[AIJob]
    total: int
    continue_token: str | None


def paginate(
    jobs: Sequence[AIJob],
    filters: JobFilters,
    limit: int,
    continue_token: str | None,
) -> Page:
    """Filter `jobs` (newest first) and cut the page after the token's position."""
    try:
        selector = parse_selector(filters.label)
    except ValueError as error:
        raise BadRequestError(f"label: {error}", field="label") from error
    digest = filters.digest()
    after: tuple[float, str] | None = None
    if continue_token:
        try:
            cursor = decode_cursor(continue_token)
        except ValueError as error:
            raise BadRequestError(f"continue: {error}", field="continue") from error
        if cursor.filters != digest:
            raise BadRequestError(
                "continue: this token was made for other filters; repeat them or start over",
                field="continue",
            )
        after = cursor.after
    selected = [job for job in jobs if matches(job, filters, selector)]
    start = 0
    if after is not None:
        start = next(
            (i for i, job in enumerate(selected) if newest_first_key(job) > after), len(selected)
        )
    items = selected[start : start + limit]
    token = None
    if start + limit < len(selected) and items:
        token = encode_cursor(Cursor(after=newest_first_key(items[-1]), filters=digest))
    return Page(items=items, total=len(selected), continue_token=token)
