"""The background Event poster never blocks a reconcile: when full, it drops and counts."""

from __future__ import annotations

from aijob_operator.events import DROPPED, EventPoster, PendingEvent


async def never_sent(event: PendingEvent) -> None:
    raise AssertionError(f"nothing is sent without a running poster: {event}")


async def test_a_full_queue_drops_and_counts() -> None:
    poster = EventPoster(never_sent, capacity=1)
    before = DROPPED._value.get()
    poster.post(PendingEvent("ns", "job", "uid", "Normal", "JobCreated", "m"))
    poster.post(PendingEvent("ns", "job", "uid", "Normal", "PodRunning", "m"))
    assert len(poster) == 1
    assert DROPPED._value.get() == before + 1
