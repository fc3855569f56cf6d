"""docs/api.md keeps up with the models: every spec and status field is documented there."""

from __future__ import annotations

from pathlib import Path

import pytest
from aijob_api.conditions import Phase
from aijob_api.models import AIJobSpec, AIJobStatus

DOC = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.mark.parametrize("field", [_camel(name) for name in AIJobSpec.model_fields])
def test_spec_field_documented(field: str) -> None:
    assert f"`{field}" in DOC


@pytest.mark.parametrize("field", [_camel(name) for name in AIJobStatus.model_fields])
def test_status_field_documented(field: str) -> None:
    assert f"`{field}`" in DOC


@pytest.mark.parametrize("phase", list(Phase))
def test_phase_documented(phase: Phase) -> None:
    assert f"| `{phase.value}` |" in DOC
