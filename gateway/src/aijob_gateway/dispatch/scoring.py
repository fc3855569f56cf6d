"""A pod's performance score and the choice of a pod by load (pure functions).

Seed 004's coordinator rated its workers on latency and reliability. Here each pod
keeps two exponentially weighted moving averages: the latency of its replies and
the share of attempts that failed on its fault. Its score is

    score = max(1 - error_rate, min_reliability) / latency

the good answers per second one of its request slots delivers. A request goes to
the pod with the least weighted load, `(outstanding + 1) / score`, the time the
pod needs to clear what it holds plus this request (as Finagle's "peak EWMA" and
Envoy's weighted least-request do). Equal loads are broken by turns, so fresh pods
of equal score share the traffic evenly.

The error rate decays towards zero with time (a half-life), so a pod that failed a
burst of requests and then got none recovers instead of staying last for ever;
`min_reliability` keeps even a failing pod's score above zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LATENCY_FLOOR_S = 1e-4
"""Latencies below this count as this (a score must stay finite)."""


@dataclass(frozen=True)
class ScoringPolicy:
    """How quickly the averages move and what a pod with no history is assumed to do."""

    latency_alpha: float = 0.3
    """Weight of a new latency sample in the latency average."""
    error_alpha: float = 0.2
    """Weight of a new outcome (1 for a pod fault, 0 otherwise) in the error average."""
    error_half_life_s: float = 30.0
    """Seconds after which an error rate with no new samples has halved."""
    min_reliability: float = 0.05
    """The least reliability factor a score uses, however many errors a pod made."""
    default_latency_s: float = 0.05
    """Latency assumed for a pod while no pod of the set has answered yet."""

    def __post_init__(self) -> None:
        if not (0 < self.latency_alpha <= 1 and 0 < self.error_alpha <= 1):
            raise ValueError("the averages' weights must be in (0, 1]")
        if self.error_half_life_s <= 0 or self.default_latency_s <= 0:
            raise ValueError("the half-life and the default latency must be > 0")
        if not 0 < self.min_reliability <= 1:
            raise ValueError("min_reliability must be in (0, 1]")


def moving_average(previous: float | None, sample: float, alpha: float) -> float:
    """The new exponentially weighted average; the first sample is taken as it is."""
    if previous is None:
        return sample
    return previous + alpha * (sample - previous)


def decayed(value: float, elapsed_s: float, half_life_s: float) -> float:
    """`value` after `elapsed_s` seconds of halving every `half_life_s`."""
    if elapsed_s <= 0:
        return value
    return value * math.pow(0.5, elapsed_s / half_life_s)


def score(latency_s: float, error_rate: float, policy: ScoringPolicy) -> float:
    """Good answers per second of one request slot (higher is better)."""
    reliability = max(1.0 - error_rate, policy.min_reliability)
    return reliability / max(latency_s, LATENCY_FLOOR_S)


def weighted_load(outstanding: int, pod_score: float) -> float:
    """Seconds the pod needs to clear its outstanding requests and one more."""
    return (outstanding + 1) / pod_score


@dataclass(frozen=True)
class Candidate:
    """A pod that could take the request now: a free slot, ready, not tried before."""

    name: str
    outstanding: int
    score: float

    @property
    def load(self) -> float:
        """Its weighted load."""
        return weighted_load(self.outstanding, self.score)


def pick(candidates: Sequence[Candidate], turn: int) -> Candidate | None:
    """The candidate of least weighted load; among equals the `turn`-th (modulo), by name."""
    if not candidates:
        return None
    least = min(candidate.load for candidate in candidates)
    equals = sorted(
        (c for c in candidates if math.isclose(c.load, least, rel_tol=1e-9)),
        key=lambda c: c.name,
    )
    return equals[turn % len(equals)]
