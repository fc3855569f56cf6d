"""docs/operator.md names every metric the operator registers, so its list cannot fall behind."""

from __future__ import annotations

from pathlib import Path

import aijob_operator.events
import aijob_operator.metrics
import pytest
from prometheus_client import REGISTRY

DOC = (Path(__file__).resolve().parents[3] / "docs" / "operator.md").read_text()
MODULES = (aijob_operator.metrics, aijob_operator.events)
"""Where the operator's metrics are defined (imported so that they are registered)."""


def operator_metric_names() -> list[str]:
    """The names of the operator's registered counters and histograms (`_total` left off)."""
    names = {metric.name for metric in REGISTRY.collect() if metric.name.startswith("aijob_")}
    return sorted(name for name in names if not name.startswith("aijob_gateway_"))


def test_the_operator_registers_metrics() -> None:
    assert len(operator_metric_names()) >= len(MODULES)


@pytest.mark.parametrize("name", operator_metric_names())
def test_metric_documented(name: str) -> None:
    assert f"`{name}" in DOC, f"docs/operator.md does not name {name}"
