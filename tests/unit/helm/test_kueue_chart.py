"""The chart's Kueue WorkloadPriorityClasses: rendered only where Kueue's API is installed,
named and valued as aijob's PriorityClasses (`aijob_api.priority`)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from aijob_api.priority import PRIORITY_LEVELS

from tests.support.helm import CHART, helm_binary, run_helm

KUEUE_API = "kueue.x-k8s.io/v1beta2/WorkloadPriorityClass"
needs_helm = pytest.mark.skipif(
    helm_binary() is None, reason="helm is not built (make binaries builds it with the cluster)"
)


def workload_priority_classes(*extra: str) -> dict[str, Any]:
    """The WorkloadPriorityClasses `helm template` renders, by name to value."""
    result = run_helm("template", "aijob", str(CHART), "-n", "aijob-system", *extra)
    assert result.returncode == 0, result.stderr
    return {
        doc["metadata"]["name"]: doc["value"]
        for doc in yaml.safe_load_all(result.stdout)
        if doc and doc["kind"] == "WorkloadPriorityClass"
    }


@pytest.mark.unit
@needs_helm
def test_rendered_with_the_priority_classes_values_where_kueue_is_installed() -> None:
    wanted = {level.class_name: level.value for level in PRIORITY_LEVELS}
    assert workload_priority_classes("--api-versions", KUEUE_API) == wanted


@pytest.mark.unit
@needs_helm
def test_none_without_kueue_or_when_priority_classes_are_not_made() -> None:
    assert workload_priority_classes() == {}
    off = ("--api-versions", KUEUE_API, "--set", "priorityClasses.create=false")
    assert workload_priority_classes(*off) == {}
