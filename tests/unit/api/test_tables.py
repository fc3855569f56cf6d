"""The tables of priorities and model types, and every copy of them outside Python.

The Helm chart's PriorityClasses and docs/api.md cannot import `aijob_api`: these tests
fail when they drift from `PRIORITY_LEVELS` or `MODEL_TYPES`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from aijob_api.priority import PRIORITY_LEVELS, Priority, priority_class, priority_level
from aijob_api.routing import (
    DEFAULT_FRAMEWORK,
    MODEL_TYPE_ROUTES,
    MODEL_TYPES,
    Framework,
    model_type_description,
    model_types_served_by,
)
from aijob_api.spec import AIJobSpec

REPO_ROOT = Path(__file__).resolve().parents[3]
DOC = (REPO_ROOT / "docs" / "api.md").read_text()
CHART = REPO_ROOT / "helm" / "aijob"


def test_every_priority_has_one_level_highest_first() -> None:
    assert [level.priority for level in PRIORITY_LEVELS] == list(Priority)
    values = [level.value for level in PRIORITY_LEVELS]
    assert values == sorted(values, reverse=True)
    assert len(set(values)) == len(values)


@pytest.mark.parametrize(
    ("priority", "class_name"),
    [(Priority.HIGH, "aijob-high"), (Priority.NORMAL, "aijob-normal"), (Priority.LOW, "aijob-low")],
)
def test_priority_classes(priority: Priority, class_name: str) -> None:
    assert priority_class(priority) == class_name
    assert priority_level(priority).class_name == class_name


def test_the_charts_priority_classes_are_the_table() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())["priorityClasses"]
    assert {name: values[name] for name in Priority} == {
        level.priority.value: level.value for level in PRIORITY_LEVELS
    }
    template = (CHART / "templates" / "priorityclasses.yaml").read_text()
    [names] = re.findall(r'range \$name := list ((?:"\w+" ?)+)', template)
    assert re.findall(r'"(\w+)"', names) == [level.priority.value for level in PRIORITY_LEVELS]
    assert "name: aijob-{{ $name }}" in template, "class names as priority_class() makes them"


def test_the_docs_priority_row_is_the_table() -> None:
    [row] = [line for line in DOC.splitlines() if line.startswith("| `priority` |")]
    documented = re.findall(r"`(aijob-\w+)` \((\d+)\)", row)
    assert documented == [(level.class_name, str(level.value)) for level in PRIORITY_LEVELS]


def test_model_types_are_unique_and_well_formed() -> None:
    names = [entry.name for entry in MODEL_TYPES]
    assert len(set(names)) == len(names)
    for entry in MODEL_TYPES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", entry.name)
        assert entry.routed_to not in entry.also_served_by


def test_routes_come_from_the_table() -> None:
    assert dict(MODEL_TYPE_ROUTES) == {entry.name: entry.routed_to for entry in MODEL_TYPES}


@pytest.mark.parametrize(
    ("framework", "served"),
    [
        (Framework.SKLEARN, {"random_forest", "svm", "logistic_regression", "gradient_boosting"}),
        (Framework.TRANSFORMERS, {"bert", "distilbert", "gpt", "transformer", "text_classifier"}),
    ],
)
def test_served_by(framework: Framework, served: set[str]) -> None:
    assert set(model_types_served_by(framework)) == served


def test_the_crd_description_names_every_type_by_where_it_routes() -> None:
    description = AIJobSpec.model_json_schema(by_alias=True)["$defs"]["ModelSpec"]["properties"][
        "type"
    ]["description"]
    assert description == model_type_description()
    for framework in (Framework.SKLEARN, Framework.PYTORCH, Framework.TENSORFLOW):
        names = [entry.name for entry in MODEL_TYPES if entry.routed_to is framework]
        assert f"{', '.join(names)} ({framework.value})" in description


def _documented_model_types() -> dict[str, tuple[str, tuple[str, ...]]]:
    section = DOC.split("| model type | routed to | served by |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \| ([^|]+) \|$", section, re.MULTILINE)
    return {name: (routed, tuple(re.findall(r"`(\w+)`", served))) for name, routed, served in rows}


def test_the_docs_model_type_table_is_the_table() -> None:
    assert _documented_model_types() == {
        entry.name: (entry.routed_to.value, tuple(f.value for f in entry.served_by))
        for entry in MODEL_TYPES
    }
    assert f"| anything else | `{DEFAULT_FRAMEWORK.value}` |" in DOC
