"""The API server's refusals of an AIJob's pod, as the Job controller reports them.

When the API server refuses the pod a Job asks for (a ResourceQuota of the tenant is
exceeded, Pod Security or an admission policy forbids it), no pod exists and the Job's
status does not change: the only trace is the Warning Event `FailedCreate` the Job
controller records on the Job, with the API server's own words, before it retries with
a back-off. The operator watches just these Events (the field selector
`FAILED_CREATE_FIELDS`, filtered by the API server) and keeps one compact `PodRefusal`
per Event, filed under the AIJob whose Job it is about (a Job has its AIJob's name, see
`builders.meta.job_name`). `describe_refusal` turns one into the AIJob's reason and
message: `QuotaExceeded` naming the quota and its numbers, or `PodsNotCreated`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from aijob_api.conditions import Reason

from aijob_operator.views import ChildKey, clip, parse_time

FAILED_CREATE: Final = "FailedCreate"
"""The reason of the Job controller's Event when it could not create a pod."""
FAILED_CREATE_FIELDS: Final = {"involvedObject.kind": "Job", "reason": FAILED_CREATE}
"""The field selector of the Events the operator watches (every other Event stays out)."""

REFUSAL_REASONS: Final = frozenset({Reason.QUOTA_EXCEEDED, Reason.PODS_NOT_CREATED})
"""The reasons `describe_refusal` gives (both Warning Events on the AIJob)."""

_QUOTA: Final = re.compile(r"exceeded quota: (?P<quota>[^,\s]+), (?P<usage>requested: .*)$")
"""The quota admission's words: `exceeded quota: NAME, requested: R, used: U, limited: L`."""
_ERROR_CREATING: Final = "Error creating: "
_NEVER: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PodRefusal:
    """One FailedCreate Event of a Job: which Job, the API server's words, and when."""

    job_uid: str
    message: str
    last_seen: datetime | None
    """When the refusal last happened (the Event's last time, second precision)."""

    @classmethod
    def from_event(cls, body: Mapping[str, Any]) -> PodRefusal:
        """Read a core/v1 Event as the API server returns it (old-style or events.k8s.io)."""
        involved = body.get("involvedObject") or {}
        series = body.get("series") or {}
        metadata = body.get("metadata") or {}
        last = (
            series.get("lastObservedTime")
            or body.get("lastTimestamp")
            or body.get("eventTime")
            or body.get("firstTimestamp")
            or metadata.get("creationTimestamp")
        )
        return cls(
            job_uid=str(involved.get("uid") or ""),
            message=clip(str(body.get("message") or "")),
            last_seen=parse_time(last),
        )

    def newer_than(self, moments: list[datetime]) -> bool:
        """Whether this refusal came at or after every one of `moments` (pods' creations)."""
        if self.last_seen is None:
            return not moments
        return all(self.last_seen >= moment for moment in moments)


def refusal_owner(body: Mapping[str, Any]) -> ChildKey | None:
    """The AIJob a Job's Event is about: the Job's namespace and name (the AIJob's name)."""
    involved = body.get("involvedObject") or {}
    namespace = involved.get("namespace") or (body.get("metadata") or {}).get("namespace")
    name = involved.get("name")
    if not namespace or not name or involved.get("kind") != "Job":
        return None
    return (str(namespace), str(name))


def latest_refusal(views: Iterable[object], job_uid: str) -> PodRefusal | None:
    """The most recent refusal of this Job among an AIJob's cached views; None if none."""
    found = [view for view in views if isinstance(view, PodRefusal) and view.job_uid == job_uid]
    if not found:
        return None
    return max(found, key=lambda view: view.last_seen or _NEVER)


def describe_refusal(refusal: PodRefusal, job: str) -> tuple[str, str]:
    """The AIJob's reason and message for a refused pod of its Job `job`."""
    words = refusal.message.removeprefix(_ERROR_CREATING)
    match = _QUOTA.search(words)
    if match is not None:
        return (
            Reason.QUOTA_EXCEEDED,
            f"ResourceQuota {match['quota']} holds back the pod of Job {job} "
            f"({match['usage']}); it starts once the quota allows it",
        )
    return (
        Reason.PODS_NOT_CREATED,
        f"the API server refuses the pod of Job {job}: {words}; the Job controller keeps retrying",
    )
