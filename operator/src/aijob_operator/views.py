"""Compact, immutable views of the Jobs and Pods an AIJob owns.

The operator keeps one of these per child object in memory (kopf indices), not
the raw bodies: a few hundred bytes each instead of kilobytes, which is what keeps
the operator small with tens of thousands of finished jobs around.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aijob_api import contract
from aijob_api.constants import LABEL_JOB_NAME

from aijob_operator.builders.job import (
    DISRUPTION_TARGET,
    INDEX_FAILURE_COUNT_ANNOTATION,
    INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
)

Body = Mapping[str, Any]
ChildKey = tuple[str, str]
"""(namespace, AIJob name) a child object belongs to."""

_MAX_TEXT = 1024


@dataclass(frozen=True, slots=True)
class ConditionView:
    """One condition of a Job or Pod."""

    type: str
    status: str
    reason: str
    message: str
    last_transition_time: datetime | None


@dataclass(frozen=True, slots=True)
class JobView:
    """What the operator needs to know about a child Job."""

    name: str
    uid: str
    owner_uid: str | None
    suspended: bool
    active: int
    ready: int
    succeeded: int
    failed: int
    start_time: datetime | None
    completion_time: datetime | None
    conditions: tuple[ConditionView, ...]

    def condition(self, type_: str) -> ConditionView | None:
        """The condition of this type when its status is True."""
        for condition in self.conditions:
            if condition.type == type_ and condition.status == "True":
                return condition
        return None

    @classmethod
    def from_body(cls, body: Body) -> JobView:
        """Read a Job as the API server returns it."""
        metadata = body.get("metadata", {})
        spec = body.get("spec", {})
        status = body.get("status", {}) or {}
        return cls(
            name=metadata.get("name", ""),
            uid=metadata.get("uid", ""),
            owner_uid=controller_uid(metadata),
            suspended=bool(spec.get("suspend")),
            active=int(status.get("active", 0) or 0),
            ready=int(status.get("ready", 0) or 0),
            succeeded=int(status.get("succeeded", 0) or 0),
            failed=int(status.get("failed", 0) or 0),
            start_time=parse_time(status.get("startTime")),
            completion_time=parse_time(status.get("completionTime")),
            conditions=parse_conditions(status.get("conditions")),
        )


@dataclass(frozen=True, slots=True)
class ContainerExit:
    """How the worker container ended."""

    exit_code: int
    reason: str
    message: str
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class PodView:
    """What the operator needs to know about a worker pod."""

    name: str
    uid: str
    job_uid: str | None
    phase: str
    node_name: str | None
    created: datetime | None
    started: datetime | None
    deleting: bool
    reason: str
    message: str
    unschedulable: str | None
    """The scheduler's message while the pod cannot be placed."""
    disruption: str | None
    """Why the pod was disrupted (preempted, evicted), when it was."""
    waiting: str | None
    """Why the worker container has not started (e.g. ErrImagePull: ...)."""
    exit: ContainerExit | None
    failure_count: int
    ignored_failure_count: int
    running_since: datetime | None = None
    """When the worker container started running (the clock of stall detection)."""
    deleted_at: datetime | None = None
    """When the pod was deleted (its deletionTimestamp), if it was."""

    @property
    def killed_by_deletion(self) -> bool:
        """Whether the pod failed because it was deleted (its worker stopped after the
        deletion): the Job controller's own deletions, on a suspend, are never counted."""
        finished = self.exit.finished_at if self.exit is not None else None
        return self.deleted_at is not None and (finished is None or finished >= self.deleted_at)

    @property
    def terminal(self) -> bool:
        """Whether the pod has ended (Succeeded or Failed)."""
        return self.phase in ("Succeeded", "Failed")

    @classmethod
    def from_body(cls, body: Body) -> PodView:
        """Read a Pod as the API server returns it."""
        metadata = body.get("metadata", {})
        annotations = metadata.get("annotations", {}) or {}
        spec = body.get("spec", {})
        status = body.get("status", {}) or {}
        conditions = parse_conditions(status.get("conditions"))
        unschedulable = None
        disruption = None
        for condition in conditions:
            if (
                condition.type == "PodScheduled"
                and condition.status == "False"
                and condition.reason == "Unschedulable"
            ):
                unschedulable = condition.message or "no node fits the pod"
            if condition.type == DISRUPTION_TARGET and condition.status == "True":
                disruption = join_reason(condition.reason, condition.message)
        waiting, exit_ = _worker_state(status)
        return cls(
            name=metadata.get("name", ""),
            uid=metadata.get("uid", ""),
            job_uid=controller_uid(metadata),
            phase=status.get("phase", "Pending"),
            node_name=spec.get("nodeName"),
            created=parse_time(metadata.get("creationTimestamp")),
            started=parse_time(status.get("startTime")),
            deleting=metadata.get("deletionTimestamp") is not None,
            reason=status.get("reason", "") or "",
            message=clip(status.get("message", "") or ""),
            unschedulable=unschedulable,
            disruption=disruption,
            waiting=waiting,
            exit=exit_,
            failure_count=_int(annotations.get(INDEX_FAILURE_COUNT_ANNOTATION)),
            ignored_failure_count=_int(annotations.get(INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)),
            running_since=_running_since(status),
            deleted_at=parse_time(metadata.get("deletionTimestamp")),
        )


def owner_key(body: Body, label: str = LABEL_JOB_NAME) -> ChildKey | None:
    """The AIJob (or, by another label, the AIEndpoint) a child object belongs to, from its
    label; None when it has none."""
    metadata = body.get("metadata", {})
    name = (metadata.get("labels") or {}).get(label)
    namespace = metadata.get("namespace")
    if not name or not namespace:
        return None
    return (namespace, name)


def worker_status(status: Body) -> Body | None:
    """The status of the worker's container (the first container's when none is so named)."""
    statuses = status.get("containerStatuses") or []
    return next(
        (item for item in statuses if item.get("name") == contract.CONTAINER_NAME),
        statuses[0] if statuses else None,
    )


def container_exit(terminated: Body) -> ContainerExit:
    """A container's `terminated` state."""
    return ContainerExit(
        exit_code=int(terminated.get("exitCode", 0)),
        reason=terminated.get("reason", "") or "",
        message=clip((terminated.get("message") or "").strip()),
        finished_at=parse_time(terminated.get("finishedAt")),
    )


def _running_since(status: Body) -> datetime | None:
    worker = worker_status(status)
    running = ((worker or {}).get("state") or {}).get("running") or {}
    return parse_time(running.get("startedAt"))


def _worker_state(status: Body) -> tuple[str | None, ContainerExit | None]:
    worker = worker_status(status)
    if worker is None:
        return None, None
    state = worker.get("state") or {}
    if "waiting" in state:
        waiting = state["waiting"] or {}
        return join_reason(waiting.get("reason", ""), waiting.get("message", "")) or None, None
    terminated = state.get("terminated")
    if terminated is None:
        terminated = (worker.get("lastState") or {}).get("terminated")
    if terminated is None:
        return None, None
    return None, container_exit(terminated)


def parse_conditions(raw: Any) -> tuple[ConditionView, ...]:
    """The conditions of an object's status, as views."""
    return tuple(
        ConditionView(
            type=item.get("type", ""),
            status=item.get("status", ""),
            reason=item.get("reason", "") or "",
            message=clip(item.get("message", "") or ""),
            last_transition_time=parse_time(item.get("lastTransitionTime")),
        )
        for item in raw or ()
    )


def controller_uid(metadata: Body) -> str | None:
    """The uid of the object's controller (its owner reference marked controller)."""
    for owner in metadata.get("ownerReferences") or ():
        if owner.get("controller"):
            uid = owner.get("uid")
            return str(uid) if uid else None
    return None


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as the API server writes it (or already parsed); None for none."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def join_reason(reason: str, message: str) -> str:
    """`reason: message`, or whichever of the two there is."""
    if reason and message:
        return f"{reason}: {message}"
    return reason or message


def clip(text: str) -> str:
    """At most 1024 characters (an ellipsis marks a cut)."""
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
