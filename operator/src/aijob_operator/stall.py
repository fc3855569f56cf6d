"""Stall detection: has the worker of a running attempt gone silent for too long?

Pure: `judge_stall` takes the time, the running pod (its phase and when its worker
container started), the last report's time (`status.progress.updatedAt`), the limits
and the retries left, and says what to do: nothing yet (and when to look again),
mark the job Stalled, end the attempt, or fail the job. The grace rule: an attempt's
clock starts when its worker container runs (scheduling and image pulls never count);
until its first report (a report newer than that start) the worker also gets the
startup grace (imports, dataset loading). `aijob_api.stall` documents the fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from aijob_api.conditions import Phase, Reason
from aijob_api.stall import StallPolicy, StallStatus

from aijob_operator.status import Observed
from aijob_operator.views import PodView

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
DUE_MARGIN_SECONDS: Final = 0.2
"""Look again this long after a limit falls due, so the clock has passed it for sure."""


@dataclass(frozen=True)
class StallLimits:
    """The limits of one job, in seconds (spec, else the runtime's, else the operator's)."""

    report_timeout: int
    restart_after: int
    startup_grace: int


def stall_limits(
    spec: StallPolicy | None, runtime: StallPolicy | None, fallback: StallLimits
) -> StallLimits:
    """Each limit from the spec, else the runtime catalog, else the operator's settings.

    A restart limit that is not above the resolved report timeout (the spec raised the
    timeout, the restart came from a default) becomes twice the timeout.
    """
    layers = [layer for layer in (spec, runtime) if layer is not None]

    def pick(field: str, default: int) -> int:
        for layer in layers:
            value = getattr(layer, field)
            if value is not None:
                return int(value)
        return default

    timeout = pick("report_timeout_seconds", fallback.report_timeout)
    restart = pick("restart_after_seconds", fallback.restart_after)
    return StallLimits(
        report_timeout=timeout,
        restart_after=restart if restart > timeout else 2 * timeout,
        startup_grace=pick("startup_grace_seconds", fallback.startup_grace),
    )


class StallAction(StrEnum):
    """What a stall calls for."""

    NONE = "none"
    """The worker reported in time (or no attempt runs): nothing to do."""
    STALLED = "stalled"
    """Silent past the report timeout: the Stalled condition and a Warning Event."""
    RESTART = "restart"
    """Silent past the restart limit, retries left: end the attempt (evict its pod)."""
    FAIL = "fail"
    """Silent past the restart limit, retries spent: the job fails."""


@dataclass(frozen=True)
class StallVerdict:
    """What to do about one attempt's silence, and when to look again."""

    action: StallAction
    message: str = ""
    due_in: float | None = None
    """Seconds until the next limit falls due; None when no limit is left to watch."""


def judge_stall(
    *,
    now: datetime,
    pod_phase: str,
    running_since: datetime | None,
    last_report: datetime | None,
    limits: StallLimits,
    retries_left: bool,
) -> StallVerdict:
    """What the silence of a running attempt's worker calls for (see the module)."""
    if pod_phase != "Running" or running_since is None:
        return StallVerdict(StallAction.NONE)
    reported = last_report is not None and last_report >= running_since
    since = last_report if reported and last_report is not None else running_since
    grace = 0 if reported else limits.startup_grace
    stalled_at = since + timedelta(seconds=grace + limits.report_timeout)
    restart_at = since + timedelta(seconds=grace + limits.restart_after)
    if now < stalled_at:
        return StallVerdict(StallAction.NONE, due_in=_due(stalled_at, now))
    silence = (
        f"the worker has not reported since {_time(since)}"
        if reported
        else f"the worker has not reported since its container started at {_time(since)}"
    )
    limit = f"limit {limits.report_timeout} s"
    if grace:
        limit += f" after a {grace} s start-up grace"
    if now < restart_at:
        ends = _time(restart_at)
        message = f"{silence} ({limit}); its attempt is ended at {ends} unless it reports"
        return StallVerdict(StallAction.STALLED, message, _due(restart_at, now))
    if retries_left:
        return StallVerdict(
            StallAction.RESTART,
            f"{silence} ({limit}); its attempt is ended and retried as a disruption",
        )
    return StallVerdict(
        StallAction.FAIL,
        f"{silence} ({limit}); its retries are spent, so the job failed and its Job was deleted",
    )


def running_pod(pods: Sequence[PodView]) -> PodView | None:
    """The newest pod that runs and is not being deleted, if any."""
    running = [pod for pod in pods if pod.phase == "Running" and not pod.deleting]
    return max(running, key=lambda pod: (pod.created or _EPOCH, pod.name), default=None)


def after_stall_restart(
    observed: Observed, stall: StallStatus | None, pods: Sequence[PodView]
) -> Observed:
    """A pod the operator evicted for a stall is told as such, not as a preemption."""
    if stall is None or stall.last_pod is None or observed.reason != Reason.PREEMPTED:
        return observed
    if not any(pod.name == stall.last_pod and pod.disruption for pod in pods):
        return observed
    return replace(
        observed,
        phase=Phase.RETRYING,
        reason=Reason.STALLED,
        message=(
            f"pod {stall.last_pod} was evicted because its worker stopped reporting (stall "
            f"restart {stall.restarts}); a new pod follows without back-off"
        ),
    )


def _due(moment: datetime, now: datetime) -> float:
    return (moment - now).total_seconds() + DUE_MARGIN_SECONDS


def _time(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
