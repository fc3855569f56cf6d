"""Status ownership: every status field has one writer, and the two shares make the whole."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import pytest
from aijob_api.status import (
    BY_OPERATOR,
    BY_WORKER,
    OPERATOR_STATUS_FIELDS,
    STATUS_OWNERS,
    WORKER_STATUS_FIELDS,
    AIJobStatus,
    StatusOwner,
    field_owners,
    status_fields,
)
from pydantic import BaseModel

DOC = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()


def test_the_two_shares_cover_the_whole_status_without_overlap() -> None:
    operator, worker = set(OPERATOR_STATUS_FIELDS), set(WORKER_STATUS_FIELDS)
    assert not operator & worker
    assert operator | worker == set(AIJobStatus.model_fields)


def test_the_worker_writes_progress_results_checkpoint_metric_history_and_ranks() -> None:
    assert WORKER_STATUS_FIELDS == (
        "progress",
        "results",
        "checkpoint",
        "metric_history",
        "ranks",
    )
    assert status_fields(StatusOwner.WORKER, by_alias=True) == (
        "progress",
        "results",
        "checkpoint",
        "metricHistory",
        "ranks",
    )


def test_wire_names_are_camel_case() -> None:
    wire = status_fields(StatusOwner.OPERATOR, by_alias=True)
    assert "failedAttempts" in wire
    assert "failed_attempts" in OPERATOR_STATUS_FIELDS
    assert len(wire) == len(OPERATOR_STATUS_FIELDS)


class _Unmarked(BaseModel):
    phase: str | None = None


class _TwiceMarked(BaseModel):
    phase: Annotated[str | None, BY_OPERATOR, BY_WORKER] = None


@pytest.mark.parametrize("model", [_Unmarked, _TwiceMarked])
def test_a_field_without_exactly_one_writer_is_refused(model: type[BaseModel]) -> None:
    with pytest.raises(TypeError, match=r"\.phase needs exactly one WrittenBy mark"):
        field_owners(model)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _documented_writers() -> dict[str, str]:
    """The status table of docs/api.md: each field and the first word of "written by"."""
    section = DOC.split("## Status", 1)[1].split("\n### ", 1)[0]
    writers: dict[str, str] = {}
    for fields, written_by in re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", section, re.MULTILINE):
        for field in re.findall(r"`(\w+)`", fields):
            writers[field] = written_by.split()[0]
    return writers


@pytest.mark.parametrize(("field", "owner"), sorted(STATUS_OWNERS.items()))
def test_docs_name_the_declared_writer(field: str, owner: StatusOwner) -> None:
    assert _documented_writers().get(_camel(field)) == owner.value
