"""The status channel's report holds exactly the worker's share of the status."""

from __future__ import annotations

import pytest
from aijob_api.status import StatusOwner, status_fields
from aijob_api.status_report import StatusReport, WorkerStatusParts
from pydantic import ValidationError


def test_the_report_parts_are_exactly_the_workers_share() -> None:
    assert set(WorkerStatusParts.model_fields) == set(status_fields(StatusOwner.WORKER))


def test_a_report_cannot_carry_the_phase() -> None:
    with pytest.raises(ValidationError, match="phase"):
        StatusReport.model_validate(
            {"uid": "u", "pod": "p", "sequence": 1, "status": {"phase": "Succeeded"}}
        )


def test_a_report_round_trips_in_camel_case() -> None:
    report = StatusReport.model_validate(
        {
            "uid": "u",
            "pod": "p",
            "sequence": 3,
            "final": True,
            "status": {"progress": {"percent": 50.0}},
            "outcome": {"exitCode": 0},
        }
    )
    wire = report.model_dump(by_alias=True, exclude_none=True)
    assert wire["outcome"] == {"exitCode": 0, "message": ""}
    assert StatusReport.model_validate(wire) == report
