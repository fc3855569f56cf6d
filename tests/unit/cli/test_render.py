"""`aijob list` keeps every job's name whole, whatever the terminal's width."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aijob_cli.render import DROPPED_FIRST, jobs_table, results_table
from rich.console import Console

ALL_HEADERS = ("NAME", "TASK", "MODEL", "FRAMEWORK", "PHASE", "PROGRESS", "GPUS", "PRIORITY")
GENERATED_NAME = "job-0123456789abcdef"
LONGEST_NAME = "a" * 30 + "-" + "b" * 32  # a DNS label's 63 characters


def job(name: str, **spec: Any) -> dict[str, Any]:
    """A job as the gateway lists it."""
    return {
        "name": name,
        "namespace": "demo",
        "createdAt": "2026-01-01T00:00:00Z",
        "spec": {
            "task": "inference",
            "model": {"type": "random_forest"},
            "framework": "tensorflow",
            "priority": "normal",
            "resources": {"gpu": 8},
            **spec,
        },
        "status": {"phase": "Succeeded", "progress": {"percent": 100}},
    }


def render(names: list[str], width: int) -> list[str]:
    """The lines `aijob list` prints in a terminal `width` columns wide."""
    page = {"total": len(names), "items": [job(name) for name in names]}
    output = io.StringIO()
    console = Console(width=width, file=output, color_system=None)
    console.print(jobs_table(page, console.width))
    return [line.rstrip() for line in output.getvalue().splitlines()]


def test_names_are_whole_in_an_80_column_terminal() -> None:
    names = ["iris-forest", "iris-forest-predict", "digits-mlp", GENERATED_NAME]
    lines = render(names, 80)
    assert all(len(line) <= 80 for line in lines)
    text = "\n".join(lines)
    for name in names:
        assert name in text
    assert "…" not in text
    header = next(line for line in lines if "NAME" in line)
    assert "PHASE" in header
    assert "FRAMEWORK" not in header
    assert "not shown at this width: FRAMEWORK" in text


def test_a_wide_terminal_shows_every_column() -> None:
    lines = render([GENERATED_NAME], 200)
    header = next(line for line in lines if "NAME" in line)
    for column in (*ALL_HEADERS, "AGE"):
        assert column in header
    assert not any("not shown" in line for line in lines)


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120])
def test_a_dns_label_long_name_is_never_cut(width: int) -> None:
    lines = render([LONGEST_NAME, "short"], width)
    assert all(len(line) <= width for line in lines)
    name_cells = [line.split("│")[1].strip() for line in lines if line.startswith("│")]
    assert LONGEST_NAME in "".join(name_cells)  # whole, folded over lines when need be
    assert "…" not in "".join(lines)


def test_columns_go_in_the_documented_order() -> None:
    assert "NAME" not in DROPPED_FIRST
    assert "PHASE" not in DROPPED_FIRST
    kept_at_80 = next(line for line in render([GENERATED_NAME], 80) if "NAME" in line)
    dropped = [column for column in DROPPED_FIRST if column not in kept_at_80]
    assert dropped == list(DROPPED_FIRST[: len(dropped)])


def test_results_keep_every_uri_whole_at_80_columns() -> None:
    uri = "file:///var/lib/aijob/artifacts/demo/wine-boosting/model/aijob-model.json"
    view = {
        "name": "wine-boosting",
        "phase": "Succeeded",
        "results": {
            "metrics": {"accuracy": 0.94},
            "modelUri": uri.rsplit("/", 1)[0],
            "artifacts": [{"name": "model/aijob-model.json", "uri": uri}],
        },
    }
    output = io.StringIO()
    Console(width=80, file=output, color_system=None).print(results_table(view))
    lines = output.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "…" not in output.getvalue()
    assert uri in "".join(line.strip() for line in lines)
