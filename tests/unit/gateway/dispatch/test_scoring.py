"""Scores and the choice of a pod: latency and errors weigh the load; equals take turns."""

from __future__ import annotations

from collections import Counter

import pytest
from aijob_gateway.dispatch import Pod, PodState, ScoringPolicy
from aijob_gateway.dispatch.scoring import (
    Candidate,
    decayed,
    moving_average,
    pick,
    score,
    weighted_load,
)

POLICY = ScoringPolicy()


@pytest.mark.parametrize(
    ("latency_s", "error_rate", "expected"),
    [
        (0.1, 0.0, 10.0),
        (0.01, 0.0, 100.0),
        (0.1, 0.5, 5.0),
        (0.1, 1.0, 0.5),  # floored at min_reliability (0.05): never zero
        (0.0, 0.0, 10_000.0),  # latency floored at 0.1 ms: stays finite
    ],
)
def test_score_is_good_answers_per_second(
    latency_s: float, error_rate: float, expected: float
) -> None:
    assert score(latency_s, error_rate, POLICY) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("previous", "sample", "alpha", "expected"),
    [
        (None, 0.2, 0.3, 0.2),
        (0.1, 0.2, 0.3, 0.13),
        (0.1, 0.2, 1.0, 0.2),
        (0.0, 1.0, 0.2, 0.2),
    ],
)
def test_moving_average(
    previous: float | None, sample: float, alpha: float, expected: float
) -> None:
    assert moving_average(previous, sample, alpha) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("elapsed_s", "expected"),
    [(0.0, 0.8), (-5.0, 0.8), (30.0, 0.4), (60.0, 0.2), (90.0, 0.1)],
)
def test_error_rate_halves_every_half_life(elapsed_s: float, expected: float) -> None:
    assert decayed(0.8, elapsed_s, half_life_s=30.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        pytest.param([("a", 0, 10.0)], "a", id="alone"),
        pytest.param([("a", 2, 10.0), ("b", 1, 10.0)], "b", id="fewer outstanding"),
        pytest.param([("a", 0, 10.0), ("b", 0, 20.0)], "b", id="better score"),
        pytest.param([("a", 1, 40.0), ("b", 0, 10.0)], "a", id="much faster though busier"),
        pytest.param([("a", 4, 40.0), ("b", 0, 10.0)], "b", id="faster but too busy"),
    ],
)
def test_pick_takes_the_least_weighted_load(
    candidates: list[tuple[str, int, float]], expected: str
) -> None:
    chosen = pick([Candidate(*candidate) for candidate in candidates], turn=0)
    assert chosen is not None
    assert chosen.name == expected


def test_pick_of_nothing_is_none() -> None:
    assert pick([], turn=3) is None


def test_equal_loads_take_turns() -> None:
    candidates = [Candidate(name, 1, 10.0) for name in ("c", "a", "b")]
    assert [pick(candidates, turn).name for turn in range(6)] == ["a", "b", "c"] * 2  # type: ignore[union-attr]


def test_load_is_shared_in_proportion_to_scores() -> None:
    """A pod twice as fast takes twice the requests when all are held at once."""
    outstanding = Counter({"fast": 0, "slow": 0})
    scores = {"fast": 100.0, "slow": 50.0}
    for turn in range(30):
        candidates = [Candidate(name, outstanding[name], scores[name]) for name in scores]
        chosen = pick(candidates, turn)
        assert chosen is not None
        outstanding[chosen.name] += 1
    assert outstanding == {"fast": 20, "slow": 10}
    assert weighted_load(outstanding["fast"], 100.0) == pytest.approx(
        weighted_load(outstanding["slow"], 50.0), rel=0.1
    )


def test_a_failing_pod_scores_lower_and_recovers_with_time() -> None:
    healthy = PodState(Pod("healthy", "h:1"), ready=True)
    failing = PodState(Pod("failing", "f:1"), ready=True)
    for _ in range(5):
        healthy.record_reply(0.05, now=0.0, policy=POLICY)
        failing.record_fault(0.05, now=0.0, policy=POLICY)
    assert failing.error_rate_at(0.0, POLICY) == pytest.approx(1 - 0.8**5)
    assert failing.score(0.0, POLICY, 0.05) < healthy.score(0.0, POLICY, 0.05) / 2
    four_half_lives = 4 * POLICY.error_half_life_s
    assert failing.error_rate_at(four_half_lives, POLICY) == pytest.approx((1 - 0.8**5) / 16)
    assert failing.score(four_half_lives, POLICY, 0.05) > 0.9 * healthy.score(0.0, POLICY, 0.05)
    assert (healthy.served, healthy.faults, failing.served, failing.faults) == (5, 0, 0, 5)


@pytest.mark.parametrize(
    ("latency_s", "elapsed_s", "expected"),
    [
        pytest.param(None, 0.2, 0.2, id="first sample"),
        pytest.param(0.1, 0.001, 0.1, id="a quick failure does not look fast"),
        pytest.param(0.1, 0.2, 0.13, id="a slow one counts"),
    ],
)
def test_time_without_a_reply_only_ever_raises_the_latency(
    latency_s: float | None, elapsed_s: float, expected: float
) -> None:
    pod = PodState(Pod("p", "p:1"), ready=True)
    pod.latency_s = latency_s
    pod.record_fault(elapsed_s, now=0.0, policy=POLICY)
    assert pod.latency_s == pytest.approx(expected)


def test_a_pod_with_no_history_takes_the_fallback_latency() -> None:
    fresh = PodState(Pod("fresh", "f:1"), ready=True)
    assert fresh.score(0.0, POLICY, fallback_latency_s=0.2) == pytest.approx(5.0)


@pytest.mark.parametrize(
    "settings",
    [
        {"latency_alpha": 0.0},
        {"error_alpha": 1.5},
        {"error_half_life_s": 0.0},
        {"default_latency_s": -1.0},
        {"min_reliability": 0.0},
    ],
)
def test_policy_refuses_nonsense(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        ScoringPolicy(**settings)
