"""Failure injection: off by default, a header per request, a rule for the next requests."""

from __future__ import annotations

import asyncio

import pytest

from aijob_worker.serve.errors import ServeError
from aijob_worker.serve.faults import (
    Fault,
    FaultInjector,
    FaultMode,
    FaultRule,
    fault_injection_enabled,
    parse_fault_header,
)
from aijob_worker.serve.metrics import ServeMetrics


def injector(*, enabled: bool = True) -> FaultInjector:
    return FaultInjector(enabled=enabled, metrics=ServeMetrics(), seed=4)


@pytest.mark.parametrize(
    ("env", "enabled"),
    [({}, False), ({"AIJOB_SERVE_FAULT_INJECTION": "0"}, False),
     ({"AIJOB_SERVE_FAULT_INJECTION": "1"}, True), ({"AIJOB_SERVE_FAULT_INJECTION": "true"}, True)],
)  # fmt: skip
def test_only_the_environment_turns_it_on(env: dict[str, str], enabled: bool) -> None:
    assert fault_injection_enabled(env) is enabled


def test_when_off_nothing_is_injected() -> None:
    faults = injector(enabled=False)
    faults.set_rule(FaultRule(mode=FaultMode.ERROR, count=None))
    assert faults.next_fault("exit") is None
    assert faults.next_fault(None) is None


@pytest.mark.parametrize(
    ("header", "fault"),
    [
        ("error", Fault(FaultMode.ERROR, status=500)),
        ("error=503", Fault(FaultMode.ERROR, status=503)),
        ("delay=250", Fault(FaultMode.DELAY, delay_ms=250)),
        (" EXIT ", Fault(FaultMode.EXIT)),
    ],
)
def test_the_header_says_what_to_inject(header: str, fault: Fault) -> None:
    assert parse_fault_header(header) == fault


@pytest.mark.parametrize("header", ["explode", "error=404", "delay", "delay=-1", "error=x"])
def test_a_bad_header_is_invalid_input(header: str) -> None:
    with pytest.raises(ServeError) as error:
        parse_fault_header(header)
    assert (error.value.status, error.value.field) == (422, "X-Aijob-Fault")


def test_a_rule_hits_the_next_count_requests_then_ends() -> None:
    faults = injector()
    faults.set_rule(FaultRule(mode=FaultMode.DELAY, count=2, delay_ms=5))
    assert [faults.next_fault(None) for _ in range(3)] == [
        Fault(FaultMode.DELAY, delay_ms=5, status=500),
        Fault(FaultMode.DELAY, delay_ms=5, status=500),
        None,
    ]
    assert faults.state() == {"enabled": True, "rule": None, "remaining": None}


def test_a_rule_with_a_probability_hits_about_that_share() -> None:
    faults = injector()
    faults.set_rule(FaultRule(mode=FaultMode.ERROR, count=None, probability=0.2))
    hits = sum(faults.next_fault(None) is not None for _ in range(2000))
    assert 300 < hits < 500


def test_an_injected_error_is_a_problem_with_its_status() -> None:
    with pytest.raises(ServeError) as error:
        asyncio.run(injector().inject(Fault(FaultMode.ERROR, status=503)))
    assert (error.value.status, error.value.slug) == (503, "injected-fault")
