"""The builtin autoscaler: the replicas the published load asks for, table-driven."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aijob_api.endpoint_scaling import AutoscalingStatus, GatewayLoad
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.endpoint_status import AIEndpointStatus
from aijob_operator.endpoint_autoscale import (
    EXTERNAL_MESSAGE,
    Load,
    decide_scale,
    published_load,
    wanted_replicas,
)

from tests.unit.operator.factories import at

STALE = 90.0
NOW = at(1000)


def spec(**fields: Any) -> AIEndpointSpec:
    """Concurrency 4 at the default 70% target (2.8 requests per replica), 1 to 5 replicas,
    a scale-down delay of 60 s, unless `fields` say otherwise."""
    autoscaling = {"scaleDownDelaySeconds": 60, **fields.pop("autoscaling", {})}
    body = {
        "model": {"source": {"trainingJob": "iris"}},
        "concurrency": 4,
        "minReplicas": 1,
        "maxReplicas": 5,
        "autoscaling": autoscaling,
        **fields,
    }
    return AIEndpointSpec.model_validate(body)


def load(outstanding: int) -> Load:
    return Load(outstanding=outstanding, requests_per_second=1.0, gateways=1)


def quiet(since: float, peak: int, wanted: int | None = None) -> AutoscalingStatus:
    """A status in a quiet period that began at T0 + `since` seconds."""
    return AutoscalingStatus(
        wanted_replicas=wanted if wanted is not None else peak,
        quiet_since=at(since),
        quiet_peak=peak,
        message="quiet",
    )


@dataclass(frozen=True)
class Case:
    replicas: int
    outstanding: int | None
    """None: no fresh load."""
    expected: int
    previous: AutoscalingStatus | None = None
    fields: tuple[tuple[str, Any], ...] = ()


CASES = {
    "14 outstanding on 1 replica at concurrency 4: up to 5 at once": Case(1, 14, 5),
    "up is capped at maxReplicas": Case(1, 400, 5),
    "a fitting load holds": Case(2, 5, 2),
    "exactly at the target holds": Case(2, 5, 2, fields=(("concurrency", 5),)),
    "one over the target adds one": Case(2, 6, 3),
    "no load information holds, even at max": Case(5, None, 5),
    "no load information holds, even quiet for long": Case(3, None, 3, previous=quiet(0, 1)),
    "a lower load starts the quiet period and holds": Case(3, 0, 3),
    "quiet for less than the delay holds": Case(3, 0, 3, previous=quiet(950, 1)),
    "quiet for the delay goes to min": Case(3, 0, 1, previous=quiet(940, 1)),
    "quiet for the delay goes to the peak of the period": Case(4, 0, 2, previous=quiet(900, 2)),
    "a peak above the replicas (scaled by hand meanwhile) still scales down": Case(
        2, 0, 1, previous=quiet(900, 4)
    ),
    "never below min": Case(3, 0, 2, previous=quiet(0, 1), fields=(("minReplicas", 2),)),
    "a load back up ends the quiet period": Case(3, 8, 3, previous=quiet(0, 1)),
    "a zero delay scales down at once": Case(
        3, 2, 1, fields=(("autoscaling", {"scaleDownDelaySeconds": 0}),)
    ),
    "a 100% target packs replicas fuller": Case(
        1, 8, 2, fields=(("autoscaling", {"targetUtilizationPercent": 100}),)
    ),
    "external never changes replicas": Case(
        1, 400, 1, fields=(("autoscaling", {"mode": "external"}),)
    ),
    "external never scales down either": Case(
        4, 0, 4, previous=quiet(0, 1), fields=(("autoscaling", {"mode": "external"}),)
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_replicas_follow_the_rule(case: Case) -> None:
    fields = dict(case.fields)
    autoscaling = {"scaleDownDelaySeconds": 60, **fields.pop("autoscaling", {})}
    max_replicas = max(5, case.replicas)
    item = spec(replicas=case.replicas, maxReplicas=max_replicas, autoscaling=autoscaling, **fields)
    published = None if case.outstanding is None else load(case.outstanding)
    decision = decide_scale(item, case.previous, published, NOW, STALE)
    assert decision.replicas == case.expected
    assert decision.scaled == (case.expected != case.replicas)
    assert decision.scaled_from == (case.replicas if decision.scaled else None)


def test_a_scale_up_says_why_in_words() -> None:
    decision = decide_scale(spec(maxReplicas=3), None, load(14), NOW, STALE)
    assert decision.replicas == 3
    assert decision.event_message == (
        "scaled from 1 to 3: 14 requests outstanding for 1 replica at concurrency 4 "
        "(target 70%), 5 asked for, maxReplicas 3"
    )
    assert decision.status is not None
    assert (decision.status.wanted_replicas, decision.status.last_scale_time) == (3, NOW)
    assert decision.status.quiet_since is None


def test_a_quiet_period_is_remembered_and_rechecked_when_due() -> None:
    started = decide_scale(spec(replicas=3), None, load(0), NOW, STALE)
    assert started.status is not None
    assert (started.status.quiet_since, started.status.quiet_peak) == (NOW, 1)
    assert started.recheck_after == 60
    assert "down to 1 after 60s" in (started.status.message or "")

    later = decide_scale(spec(replicas=3), started.status, load(3), at(1030), STALE)
    assert later.status is not None
    assert (later.status.quiet_since, later.status.quiet_peak) == (NOW, 2)
    assert later.recheck_after == 30

    due = decide_scale(spec(replicas=3), later.status, load(0), at(1060), STALE)
    assert (due.replicas, due.scaled_from) == (2, 3)
    assert due.status is not None
    assert due.status.quiet_since is None
    assert due.status.last_scale_time == at(1060)
    assert due.event_message.startswith("scaled from 3 to 2: the load asked for at most 2")


def test_a_load_that_moves_within_one_decision_keeps_the_status() -> None:
    first = decide_scale(spec(replicas=2), None, load(4), NOW, STALE)
    again = decide_scale(spec(replicas=2), first.status, load(5), at(1010), STALE)
    assert again.status == first.status
    assert again.status is not None
    assert again.status.message == "the load asks for 2 replicas: as many as there are"


def test_holding_without_load_says_so_and_keeps_the_last_scale_time() -> None:
    previous = AutoscalingStatus(wanted_replicas=3, last_scale_time=at(10), message="scaled")
    decision = decide_scale(spec(replicas=3), previous, None, NOW, STALE)
    assert decision.status == AutoscalingStatus(
        last_scale_time=at(10),
        message="no gateway published this endpoint's load in the last 90s: holding 3 replicas",
    )
    assert decision.recheck_after is None


def test_external_mode_shows_who_drives_the_replicas() -> None:
    decision = decide_scale(spec(autoscaling={"mode": "external"}), None, load(40), NOW, STALE)
    assert decision.status == AutoscalingStatus(message=EXTERNAL_MESSAGE)


def entry(in_flight: int, rps: float, seconds: float) -> GatewayLoad:
    return GatewayLoad(in_flight=in_flight, requests_per_second=rps, updated_at=at(seconds))


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({}, None),
        ({"gw-a": entry(3, 1.5, 990)}, Load(3, 1.5, 1)),
        ({"gw-a": entry(3, 1.5, 990), "gw-b": entry(4, 2.0, 950)}, Load(7, 3.5, 2)),
        ({"gw-a": entry(3, 1.5, 990), "gw-dead": entry(40, 9.0, 900)}, Load(3, 1.5, 1)),
        ({"gw-dead": entry(40, 9.0, 909)}, None),
        ({"gw-a": entry(2, 0.0, 910)}, Load(2, 0.0, 1)),
    ],
    ids=["none", "one", "two summed", "a stale one left out", "only stale", "at the limit"],
)
def test_published_load_sums_the_fresh_gateway_entries(
    entries: dict[str, GatewayLoad], expected: Load | None
) -> None:
    status = AIEndpointStatus(gateway_load=entries)
    assert published_load(status, NOW, STALE) == expected


@pytest.mark.parametrize(
    ("outstanding", "concurrency", "target", "expected"),
    [
        (0, 4, 70, 1),
        (2, 4, 70, 1),
        (3, 4, 70, 2),
        (14, 4, 70, 5),
        (16, 16, 100, 1),
        (17, 16, 100, 2),
    ],
)
def test_wanted_replicas(outstanding: int, concurrency: int, target: int, expected: int) -> None:
    item = spec(concurrency=concurrency, autoscaling={"targetUtilizationPercent": target})
    assert wanted_replicas(item, outstanding) == expected
