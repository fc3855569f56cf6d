"""Leader election's decisions, pure: whether to create, take, renew or leave a Lease alone.

The rules are client-go's (`k8s.io/client-go/tools/leaderelection`): a candidate never
trusts the clocks written in the Lease (another machine's); it notes, on its own monotonic
clock, when it last saw the Lease's record change (`Observation`), and takes the Lease
only when the record has not changed for `lease_duration` seconds. A leader renews every
`retry_period`; when it could not renew for `renew_deadline` seconds it has lost the lease
and must stop writing. `lease_duration > renew_deadline > 1.2 x retry_period`, so a leader
always gives up before a standby may take over. The async loop that reads and writes the
Lease is `aijob_operator.leader_election`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

JITTER_FACTOR: Final = 1.2
"""client-go's: the renew deadline must exceed the retry period by this factor."""


@dataclass(frozen=True)
class Timings:
    """Seconds; the defaults are client-go's standard ones."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if self.lease_duration <= self.renew_deadline:
            raise ValueError(
                f"lease duration ({self.lease_duration}s) must exceed the renew deadline "
                f"({self.renew_deadline}s)"
            )
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(
                f"renew deadline ({self.renew_deadline}s) must exceed {JITTER_FACTOR} x the "
                f"retry period ({self.retry_period}s)"
            )
        if self.retry_period <= 0:
            raise ValueError(f"retry period must be positive, not {self.retry_period}")


@dataclass(frozen=True)
class LeaseRecord:
    """What a Lease's spec says (`holderIdentity` empty or absent: nobody holds it)."""

    holder: str | None
    duration_seconds: int
    acquire_time: datetime | None = None
    renew_time: datetime | None = None
    transitions: int = 0


@dataclass(frozen=True)
class Observation:
    """The last record seen and when it was first seen so (the observer's monotonic clock)."""

    record: LeaseRecord
    resource_version: str
    observed_at: float


class Action(enum.Enum):
    """What a candidate does with the Lease this round."""

    CREATE = "create"
    """No Lease exists: create it, held by us."""
    TAKE = "take"
    """Another's record has expired (or nobody holds it): take it, one more transition."""
    RENEW = "renew"
    """We hold it: write a new renew time."""
    WAIT = "wait"
    """Another holds it and it has not expired: write nothing."""


def observe(
    previous: Observation | None, record: LeaseRecord, version: str, now: float
) -> Observation:
    """The observation after reading `record` at `version`: any write since (a changed record or
    resourceVersion) restarts its clock."""
    if previous is not None and (previous.record, previous.resource_version) == (record, version):
        return previous
    return Observation(record, version, now)


def expired(observation: Observation, now: float) -> bool:
    """Whether the observed record has not changed for its lease duration (our clock)."""
    return now >= observation.observed_at + observation.record.duration_seconds


def decide(
    observation: Observation | None, identity: str, now: float, own_pod: str | None = None
) -> Action:
    """What `identity` does, given the Lease as last observed (None: there is no Lease).

    `own_pod`: the candidate's pod name, where it runs in a pod (identities are
    `<pod>_<random>`). A holder of the same pod and another suffix is an earlier container
    of this very pod, which Kubernetes runs one at a time: it is dead, so its lease is
    taken at once instead of waited out (a leader that exited on a lost lease, during an
    API server outage say, and was restarted by the kubelet, leads again at its first try).
    """
    if observation is None:
        return Action.CREATE
    holder = observation.record.holder
    if holder == identity:
        return Action.RENEW
    if not holder or expired(observation, now) or predecessor(holder, own_pod):
        return Action.TAKE
    return Action.WAIT


def predecessor(holder: str, own_pod: str | None) -> bool:
    """Whether `holder` is an identity of an earlier container of the pod `own_pod`."""
    return bool(own_pod) and holder.rpartition("_")[0] == own_pod


def next_record(
    current: LeaseRecord | None, action: Action, identity: str, wall_now: datetime, timings: Timings
) -> LeaseRecord:
    """The record to write for `action` (not WAIT); `wall_now` is written for humans only."""
    duration = round(timings.lease_duration)
    if action is Action.WAIT:
        raise ValueError("nothing is written while another holds the lease")
    if action is Action.RENEW and current is not None:
        return replace(current, duration_seconds=duration, renew_time=wall_now)
    transitions = 0 if current is None else current.transitions + 1
    return LeaseRecord(identity, duration, wall_now, wall_now, transitions)


def released(current: LeaseRecord, wall_now: datetime) -> LeaseRecord:
    """The record a leader writes when it stops on purpose: nobody holds it, so a standby
    takes it on its next try instead of after the lease duration (client-go's ReleaseOnCancel)."""
    return replace(current, holder=None, duration_seconds=1, renew_time=wall_now)


def lost(last_renewed: float, now: float, timings: Timings) -> bool:
    """Whether a leader that last renewed at `last_renewed` (its clock) is past its deadline."""
    return now - last_renewed >= timings.renew_deadline
