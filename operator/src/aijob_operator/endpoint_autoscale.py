"""The builtin autoscaler of AIEndpoints: the replicas the load the gateways publish asks for.

Pure. `published_load` sums the gateway pods' fresh entries of `status.gatewayLoad`
(an entry older than the staleness limit is a gateway that stopped publishing, and
counts for nothing); `decide_scale` turns that load into the `spec.replicas` to have:

- the load asks for `ceil(outstanding / (concurrency * target%))` replicas, within
  minReplicas and maxReplicas;
- more than there are: scale up at once;
- fewer: only once the load has asked for fewer for `scaleDownDelaySeconds` (the quiet
  period, remembered in `status.autoscaling.quietSince`), and then to the most it asked
  for during that period;
- no fresh load at all (no gateway publishes, or the operator cannot read it): hold;
- `autoscaling.mode: external`: never change `spec.replicas` (an HPA, KEDA or a person
  drives it through the scale subresource).

The reconciler applies a change through the scale subresource and posts an Event with
the decision's words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from aijob_api.endpoint_scaling import AutoscalingMode, AutoscalingStatus
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.endpoint_status import AIEndpointStatus

EXTERNAL_MESSAGE: Final = (
    "autoscaling.mode is external: spec.replicas is left to the scale subresource "
    "(an HPA, KEDA, kubectl scale)"
)


@dataclass(frozen=True)
class Load:
    """The load of one endpoint, summed over the gateway pods that published it lately."""

    outstanding: int
    """Requests the gateways hold for it: sent to a replica or queued."""
    requests_per_second: float
    gateways: int
    """Gateway pods whose entries are fresh."""


@dataclass(frozen=True)
class ScaleDecision:
    """The replicas to have, the status that explains them, and when to look again."""

    replicas: int
    """`spec.replicas` to have; the current value when nothing changes."""
    scaled_from: int | None
    """The replicas before, when this decision changes them; None otherwise."""
    status: AutoscalingStatus | None
    """The autoscaling status to show (None: none, as with mode external)."""
    recheck_after: float | None = None
    """Seconds until a waiting scale-down is due."""

    @property
    def scaled(self) -> bool:
        """Whether `spec.replicas` changes."""
        return self.scaled_from is not None

    @property
    def event_message(self) -> str:
        """The Event's words: the decision's message."""
        return (self.status.message if self.status else None) or ""


def published_load(status: AIEndpointStatus, now: datetime, stale_seconds: float) -> Load | None:
    """The sum of the gateway entries at most `stale_seconds` old; None when there is none."""
    fresh = [
        entry
        for entry in status.gateway_load.values()
        if (now - entry.updated_at).total_seconds() <= stale_seconds
    ]
    if not fresh:
        return None
    return Load(
        outstanding=sum(entry.in_flight for entry in fresh),
        requests_per_second=round(sum(entry.requests_per_second for entry in fresh), 3),
        gateways=len(fresh),
    )


def per_replica(spec: AIEndpointSpec) -> float:
    """Requests one replica is meant to hold: its concurrency times the target utilisation."""
    return spec.concurrency * spec.autoscaling.target_utilization_percent / 100


def asked_replicas(spec: AIEndpointSpec, outstanding: int) -> int:
    """The replicas `outstanding` requests ask for, before minReplicas and maxReplicas."""
    return math.ceil(outstanding / per_replica(spec))


def wanted_replicas(spec: AIEndpointSpec, outstanding: int) -> int:
    """The replicas `outstanding` requests ask for, within minReplicas and maxReplicas."""
    return max(spec.min_replicas, min(asked_replicas(spec, outstanding), spec.max_replicas))


def decide_scale(
    spec: AIEndpointSpec,
    previous: AutoscalingStatus | None,
    load: Load | None,
    now: datetime,
    stale_seconds: float,
) -> ScaleDecision:
    """The replicas to have now (see the module's rule), and the status that says why."""
    current = spec.desired_replicas
    if spec.autoscaling.mode is AutoscalingMode.EXTERNAL:
        return ScaleDecision(current, None, AutoscalingStatus(message=EXTERNAL_MESSAGE))
    now = now.replace(microsecond=0)
    last_scale_time = previous.last_scale_time if previous is not None else None
    if load is None:
        message = (
            f"no gateway published this endpoint's load in the last {stale_seconds:g}s: "
            f"holding {_replicas(current)}"
        )
        return _hold(
            current, previous, AutoscalingStatus(last_scale_time=last_scale_time, message=message)
        )
    wanted = wanted_replicas(spec, load.outstanding)
    if wanted > current:
        message = f"scaled from {current} to {wanted}: {_load_words(spec, load, current)}"
        status = AutoscalingStatus(wanted_replicas=wanted, last_scale_time=now, message=message)
        return ScaleDecision(wanted, current, status)
    if wanted == current:
        message = f"the load asks for {_replicas(current)}: as many as there are"
        if asked_replicas(spec, load.outstanding) > current:
            message = f"the load asks for more than maxReplicas: holding {_replicas(current)}"
        status = AutoscalingStatus(
            wanted_replicas=wanted, last_scale_time=last_scale_time, message=message
        )
        return _hold(current, previous, status)
    quiet_since = previous.quiet_since if previous is not None else None
    peak = wanted
    if quiet_since is None:
        quiet_since = now
    elif previous is not None and previous.quiet_peak is not None:
        peak = max(wanted, min(previous.quiet_peak, current - 1))
    delay = spec.autoscaling.scale_down_delay_seconds
    quiet_for = (now - quiet_since).total_seconds()
    if quiet_for >= delay:
        message = (
            f"scaled from {current} to {peak}: the load asked for at most {_replicas(peak)} "
            f"for {quiet_for:.0f}s ({_load_words(spec, load, current)} now)"
        )
        status = AutoscalingStatus(wanted_replicas=wanted, last_scale_time=now, message=message)
        return ScaleDecision(peak, current, status)
    message = (
        f"the load asks for {_replicas(wanted)} since {quiet_since.isoformat()}: down to "
        f"{peak} after {delay}s of it"
    )
    status = AutoscalingStatus(
        wanted_replicas=wanted,
        quiet_since=quiet_since,
        quiet_peak=peak,
        last_scale_time=last_scale_time,
        message=message,
    )
    return _hold(current, previous, status, recheck_after=max(0.0, delay - quiet_for))


def _hold(
    current: int,
    previous: AutoscalingStatus | None,
    status: AutoscalingStatus,
    recheck_after: float | None = None,
) -> ScaleDecision:
    """Keep the replicas; keep the previous words too while the decision is the same (a load
    that moves within one decision writes no status: the live load is status.inFlight)."""
    if previous is not None and _without_message(previous) == _without_message(status):
        status = previous
    return ScaleDecision(current, None, status, recheck_after)


def _without_message(status: AutoscalingStatus) -> AutoscalingStatus:
    return status.model_copy(update={"message": None})


def _load_words(spec: AIEndpointSpec, load: Load, replicas: int) -> str:
    """`14 requests outstanding for 1 replica at concurrency 4 (target 70%)`, and the replicas
    asked for beyond maxReplicas, if they are."""
    requests = "request" if load.outstanding == 1 else "requests"
    words = (
        f"{load.outstanding} {requests} outstanding for {_replicas(replicas)} at concurrency "
        f"{spec.concurrency} (target {spec.autoscaling.target_utilization_percent}%)"
    )
    asked = asked_replicas(spec, load.outstanding)
    if asked > spec.max_replicas:
        words += f", {asked} asked for, maxReplicas {spec.max_replicas}"
    return words


def _replicas(count: int) -> str:
    return f"{count} replica" if count == 1 else f"{count} replicas"
