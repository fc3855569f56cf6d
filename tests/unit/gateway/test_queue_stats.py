"""Queue statistics from cached jobs."""

from __future__ import annotations

from datetime import timedelta

from aijob_gateway.services.queue import NOT_SEEN_REASON, queue_stats

from tests.unit.gateway.factories import BASE_TIME, make_job


def test_depth_running_and_reasons() -> None:
    jobs = [
        make_job(
            "a",
            priority="high",
            age_minutes=30,
            status={
                "phase": "Queued",
                "reason": "Unschedulable",
                "message": "0/3 nodes have 8 free GPUs",
            },
        ),
        make_job(
            "b",
            priority="high",
            model_type="bert",
            status={"phase": "Queued", "reason": "Unschedulable"},
        ),
        make_job("c", priority="low", age_minutes=5),
        make_job("d", status={"phase": "Running", "framework": "sklearn"}),
        make_job("e", status={"phase": "Succeeded"}),
        make_job("f", priority="low", status={"phase": "Retrying", "reason": "AttemptFailed"}),
    ]
    stats = queue_stats("team-a", jobs, now=BASE_TIME)
    assert stats.total == 6
    assert stats.waiting == 4
    assert stats.running == 1
    assert stats.by_phase == {
        "Queued": 2,
        "Pending": 1,
        "Running": 1,
        "Succeeded": 1,
        "Retrying": 1,
    }
    assert stats.waiting_by_priority == {"high": 2, "normal": 0, "low": 2}
    assert stats.waiting_by_framework == {"sklearn": 3, "pytorch": 1}
    assert stats.running_by_framework == {"sklearn": 1}
    reasons = {r.reason: (r.count, r.example_message) for r in stats.waiting_reasons}
    assert reasons == {
        "Unschedulable": (2, "0/3 nodes have 8 free GPUs"),
        NOT_SEEN_REASON: (1, None),
        "AttemptFailed": (1, None),
    }
    assert stats.waiting_reasons[0].reason == "Unschedulable"
    assert stats.oldest_waiting_seconds == timedelta(minutes=30).total_seconds()


def test_empty_namespace() -> None:
    stats = queue_stats("empty", [], now=BASE_TIME)
    assert stats.total == stats.waiting == stats.running == 0
    assert stats.oldest_waiting_seconds is None
