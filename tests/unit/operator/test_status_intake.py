"""The status server's pure decisions: the per-pod rate and sequence, the per-job coalescing
(an injected clock); merging parts and the patch are aijob_api.status_patch's (tests/unit/api)."""

from __future__ import annotations

import pytest
from aijob_operator.status_intake import Coalescer, PodLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_pod_has_its_burst_then_its_rate() -> None:
    clock = Clock()
    limits = PodLimits(rate=2.0, burst=3, clock=clock)
    assert [limits.take("p") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limits.take("p") == pytest.approx(0.5)
    assert limits.take("other") == 0.0  # each pod its own bucket
    clock.now += 0.5
    assert limits.take("p") == 0.0
    assert limits.take("p") > 0
    clock.now += 100
    assert [limits.take("p") for _ in range(3)] == [0.0, 0.0, 0.0]  # never above the burst
    assert limits.take("p") > 0


def test_an_older_report_than_one_taken_is_stale_an_equal_one_is_not() -> None:
    limits = PodLimits(rate=1.0, burst=1, clock=Clock())
    assert not limits.is_stale("p", 0)
    limits.taken("p", 5)
    limits.taken("p", 3)  # never lowers
    assert limits.is_stale("p", 4)
    assert not limits.is_stale("p", 5)  # a retry of the same report
    assert not limits.is_stale("q", 0)


def test_idle_pods_are_swept_and_a_forgotten_one_starts_afresh() -> None:
    clock = Clock()
    limits = PodLimits(rate=1.0, burst=1, clock=clock, idle_seconds=60)
    limits.take("old")
    clock.now += 30
    limits.take("new")
    clock.now += 31
    assert limits.sweep() == 1
    assert len(limits) == 1
    limits.forget("new")
    assert len(limits) == 0


def test_reports_within_the_interval_make_one_write() -> None:
    clock = Clock()
    coalescer = Coalescer(interval=2.0, clock=clock)
    key = ("ns", "job")
    assert coalescer.add(key, "u1", {"progress": {"percent": 1}}) == 0.0  # first: at once
    assert coalescer.add(key, "u1", {"progress": {"percent": 2}}) is None  # already scheduled
    pending = coalescer.take(key)
    assert pending is not None
    assert (pending.parts, pending.reports) == ({"progress": {"percent": 2}}, 2)
    clock.now += 0.5
    assert coalescer.add(key, "u1", {"progress": {"percent": 3}}) == pytest.approx(1.5)
    for percent in range(4, 20):
        assert coalescer.add(key, "u1", {"progress": {"percent": percent}}) is None
    clock.now += 1.5
    pending = coalescer.take(key)
    assert pending is not None
    assert (pending.parts["progress"]["percent"], pending.reports) == (19, 17)
    assert coalescer.take(key) is None


def test_a_final_report_takes_what_is_pending_at_once() -> None:
    clock = Clock()
    coalescer = Coalescer(interval=10.0, clock=clock)
    key = ("ns", "job")
    coalescer.add(key, "u1", {"progress": {"percent": 1}})
    coalescer.take(key)
    coalescer.add(key, "u1", {"checkpoint": {"epoch": 3}})
    final = coalescer.take_final(key, "u1", {"results": {"accuracy": 0.9}})
    assert final.parts == {"checkpoint": {"epoch": 3}, "results": {"accuracy": 0.9}}
    assert final.reports == 2
    assert coalescer.take(key) is None  # the scheduled write finds nothing


def test_another_uids_pending_parts_are_dropped() -> None:
    coalescer = Coalescer(interval=1.0, clock=Clock())
    key = ("ns", "job")
    coalescer.add(key, "old", {"progress": {"percent": 1}})
    coalescer.add(key, "new", {"results": {}})
    pending = coalescer.take(key)
    assert pending is not None
    assert (pending.uid, pending.parts) == ("new", {"results": {}})
    assert coalescer.take_final(key, "newer", {"results": {"a": 1}}).parts == {"results": {"a": 1}}


def test_a_failed_write_is_put_back_under_what_came_since() -> None:
    clock = Clock()
    coalescer = Coalescer(interval=1.0, clock=clock)
    key = ("ns", "job")
    coalescer.add(key, "u1", {"progress": {"percent": 1}, "checkpoint": {"epoch": 1}})
    failed = coalescer.take(key)
    assert failed is not None
    assert coalescer.add(key, "u1", {"progress": {"percent": 2}}) is not None
    assert coalescer.put_back(key, failed) is None  # a write is scheduled already
    pending = coalescer.take(key)
    assert pending is not None
    assert pending.parts == {"progress": {"percent": 2}, "checkpoint": {"epoch": 1}}
    assert coalescer.put_back(key, pending) is not None  # nothing scheduled: schedule one


def test_idle_jobs_are_those_with_nothing_pending_past_the_interval() -> None:
    clock = Clock()
    coalescer = Coalescer(interval=1.0, clock=clock)
    coalescer.add(("ns", "a"), "u", {})
    coalescer.take(("ns", "a"))
    coalescer.add(("ns", "b"), "u", {})
    clock.now += 2
    assert coalescer.idle_jobs() == [("ns", "a")]
    coalescer.forget(("ns", "a"))
    assert coalescer.idle_jobs() == []
