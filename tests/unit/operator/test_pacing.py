"""Status pacing: non-final writes at most once per interval, final ones at once."""

from __future__ import annotations

from aijob_operator.pacing import StatusPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_first_write_waits_an_interval_after_the_job_was_created() -> None:
    clock = Clock()
    pacer = StatusPacer(1.0, clock)
    pacer.started("a")
    clock.now += 0.25
    assert pacer.wait("a", final=False) == 0.75
    assert pacer.wait("a", final=True) == 0.0
    clock.now += 0.75
    assert pacer.wait("a", final=False) == 0.0


def test_writes_are_spaced_and_a_final_one_ends_the_pacing() -> None:
    clock = Clock()
    pacer = StatusPacer(1.0, clock)
    assert pacer.wait("a", final=False) == 0.0, "an adopted job (after a restart) writes at once"
    pacer.wrote("a", final=False)
    clock.now += 0.5
    assert pacer.wait("a", final=False) == 0.5
    pacer.wrote("a", final=True)
    assert len(pacer) == 0


def test_zero_interval_turns_pacing_off() -> None:
    pacer = StatusPacer(0.0, Clock())
    pacer.started("a")
    pacer.wrote("a", final=False)
    assert pacer.wait("a", final=False) == 0.0
    assert len(pacer) == 0


def test_forget() -> None:
    pacer = StatusPacer(1.0, Clock())
    pacer.started("a")
    pacer.forget("a")
    assert pacer.wait("a", final=False) == 0.0
