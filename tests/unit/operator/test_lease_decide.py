"""Leader election's decisions (client-go's rules) on an injected clock, and the Lease's spec."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aijob_operator.config import OperatorConfig
from aijob_operator.leader_election import identity_of, record_of, spec_of
from aijob_operator.lease_decide import (
    Action,
    LeaseRecord,
    Observation,
    Timings,
    decide,
    expired,
    lost,
    next_record,
    observe,
    released,
)
from pydantic import ValidationError

T = Timings()
WALL = datetime(2026, 12, 5, 17, 0, 0, 123456, tzinfo=UTC)


def held_by(holder: str | None, renewed: datetime = WALL, transitions: int = 0) -> LeaseRecord:
    return LeaseRecord(holder, 15, WALL, renewed, transitions)


def test_defaults_are_client_go_standard_timings() -> None:
    assert (T.lease_duration, T.renew_deadline, T.retry_period) == (15.0, 10.0, 2.0)


@pytest.mark.parametrize(
    ("lease", "renew", "retry", "named"),
    [(10, 10, 2, "lease duration"), (15, 2.4, 2, "renew deadline"), (15, 10, 0, "retry")],
)
def test_inconsistent_timings_are_refused_naming_the_one(
    lease: float, renew: float, retry: float, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        Timings(lease, renew, retry)


def test_no_lease_is_created_and_own_lease_renewed() -> None:
    assert decide(None, "a", 0.0) is Action.CREATE
    mine = Observation(held_by("a"), "1", 0.0)
    assert decide(mine, "a", 100.0) is Action.RENEW


def test_anothers_lease_is_taken_only_when_unchanged_for_its_duration_on_our_clock() -> None:
    seen = observe(None, held_by("b"), "1", now=50.0)
    assert decide(seen, "a", 50.0 + 14.9) is Action.WAIT
    assert decide(seen, "a", 50.0 + 15.0) is Action.TAKE


def test_an_earlier_container_of_the_same_pod_is_taken_over_at_once() -> None:
    # The leader exited (a lost lease during an API server outage) and the kubelet started
    # its container again: a new identity of the same pod, the old one surely dead.
    seen = observe(None, held_by("aijob-operator-5d4f-x2x9q_1a2b3c4d"), "1", now=50.0)
    restarted = "aijob-operator-5d4f-x2x9q_9f8e7d6c"
    assert decide(seen, restarted, 50.0, own_pod="aijob-operator-5d4f-x2x9q") is Action.TAKE


def test_another_pods_lease_is_waited_out_and_no_pod_name_means_no_shortcut() -> None:
    seen = observe(None, held_by("aijob-operator-5d4f-x2x9q_1a2b3c4d"), "1", now=50.0)
    other = "aijob-operator-5d4f-k7m2z_9f8e7d6c"
    assert decide(seen, other, 50.0, own_pod="aijob-operator-5d4f-k7m2z") is Action.WAIT
    # Two processes on one host without a pod name share the host's name: no shortcut.
    same_host = "aijob-operator-5d4f-x2x9q_9f8e7d6c"
    assert decide(seen, same_host, 50.0, own_pod=None) is Action.WAIT
    assert decide(seen, same_host, 50.0 + 15.0, own_pod=None) is Action.TAKE


def test_a_renewal_restarts_the_observers_clock_whatever_the_written_times_say() -> None:
    seen = observe(None, held_by("b"), "1", now=0.0)
    same = observe(seen, held_by("b"), "1", now=14.0)
    assert same.observed_at == 0.0  # nothing changed: the clock runs on
    rewritten = observe(seen, held_by("b"), "2", now=14.0)
    assert rewritten.observed_at == 14.0  # written again (a new resourceVersion): alive
    renewed = observe(same, held_by("b", renewed=datetime(1999, 1, 1, tzinfo=UTC)), "2", now=14.0)
    assert renewed.observed_at == 14.0  # a change, even to a time in the past: alive
    assert not expired(renewed, 28.0)
    assert decide(renewed, "a", 28.0) is Action.WAIT


def test_a_released_or_empty_lease_is_taken_at_once() -> None:
    seen = observe(None, released(held_by("b"), WALL), "2", now=0.0)
    assert seen.record.holder is None
    assert decide(seen, "a", 0.0) is Action.TAKE


def test_taking_counts_a_transition_and_renewing_keeps_the_acquire_time() -> None:
    later = datetime(2026, 12, 5, 17, 1, tzinfo=UTC)
    taken = next_record(held_by("b", transitions=3), Action.TAKE, "a", later, T)
    assert (taken.holder, taken.transitions, taken.acquire_time) == ("a", 4, later)
    renewed = next_record(taken, Action.RENEW, "a", WALL, T)
    assert (renewed.acquire_time, renewed.renew_time, renewed.transitions) == (later, WALL, 4)
    created = next_record(None, Action.CREATE, "a", WALL, T)
    assert (created.holder, created.duration_seconds, created.transitions) == ("a", 15, 0)
    with pytest.raises(ValueError, match="another holds"):
        next_record(taken, Action.WAIT, "a", WALL, T)


def test_a_leader_is_lost_at_its_renew_deadline() -> None:
    assert not lost(last_renewed=100.0, now=109.9, timings=T)
    assert lost(last_renewed=100.0, now=110.0, timings=T)


@dataclass
class Candidate:
    """One simulated candidate on a shared lease (one read and write per round, no races)."""

    name: str
    observed: Observation | None = None
    renewed: float | None = None
    alive: bool = True

    def round(self, lease: list[tuple[LeaseRecord, str]], now: float) -> None:
        if not self.alive:
            return
        if self.renewed is not None and lost(self.renewed, now, T):
            self.renewed = None
        if lease:
            self.observed = observe(self.observed, *lease[0], now)
        action = decide(self.observed if lease else None, self.name, now)
        if action is Action.WAIT:
            return
        # The same written time every round: only the resourceVersion tells a renewal.
        record = next_record(lease[0][0] if lease else None, action, self.name, WALL, T)
        lease[:] = [(record, str(now))]
        self.observed = observe(None, *lease[0], now)
        self.renewed = now

    def leads(self, lease: list[tuple[LeaseRecord, str]], now: float) -> bool:
        held = bool(lease) and lease[0][0].holder == self.name
        return self.alive and held and self.renewed is not None and not lost(self.renewed, now, T)


def test_two_candidates_never_lead_at_once_and_the_standby_takes_over_within_bounds() -> None:
    lease: list[tuple[LeaseRecord, str]] = []
    a, b = Candidate("a"), Candidate("b")
    now, killed_at, took_over = 0.0, None, None
    while now < 60.0:
        for candidate in (a, b):
            candidate.round(lease, now)
        assert not (a.leads(lease, now) and b.leads(lease, now))
        if now == 20.0:
            assert a.leads(lease, now)
            a.alive, killed_at = False, now
        if killed_at is not None and took_over is None and b.leads(lease, now):
            took_over = now
        now += T.retry_period
    assert killed_at is not None
    assert took_over is not None
    # Taken once unchanged for the lease duration, seen within one retry period.
    assert T.lease_duration <= took_over - killed_at + T.retry_period
    assert took_over - killed_at <= T.lease_duration + T.retry_period
    assert lease[0][0].transitions == 1


def test_the_spec_round_trips_with_six_fractional_digits() -> None:
    record = LeaseRecord("pod-a_1234abcd", 15, WALL, WALL.replace(microsecond=0), 2)
    spec = spec_of(record)
    assert spec["renewTime"] == "2026-12-05T17:00:00.000000Z"
    assert spec["acquireTime"] == "2026-12-05T17:00:00.123456Z"
    assert record_of({"spec": spec}) == record
    assert record_of({"spec": {**spec, "holderIdentity": ""}}).holder is None
    assert record_of({}) == LeaseRecord(None, 0)


def test_identities_differ_between_restarts_of_one_pod() -> None:
    first, second = identity_of("aijob-operator-7d9-x"), identity_of("aijob-operator-7d9-x")
    assert first.startswith("aijob-operator-7d9-x_")
    assert first != second


def test_election_needs_the_operators_own_namespace() -> None:
    with pytest.raises(ValidationError, match="own_namespace"):
        OperatorConfig(leader_election=True)
    with pytest.raises(ValidationError, match="renew deadline"):
        OperatorConfig(renew_deadline_seconds=2.0)
    assert OperatorConfig(leader_election=True, own_namespace="aijob-system").lease_timings == T
