"""The API server itself holds status.metricHistory to its bounds (CRD schema and CEL)."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.constants import API_VERSION, KIND
from aijob_kube.resources import AIJobResource
from lightkube import ApiError, Client
from lightkube.types import PatchType

SERIES: dict[str, Any] = {
    "name": "loss",
    "axis": "step",
    "bucketWidth": 2,
    "x": [8, 16, 24],
    "values": [1.5, 0.75, 0.5],
    "seconds": [0.0, 2.5, 5.0],
}


@pytest.fixture
def job(kube: Client, namespace: str, aijob_crd: str) -> str:
    body = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "curves", "namespace": namespace},
        "spec": {
            "task": "training",
            "model": {"type": "random_forest"},
            "dataset": {"name": "iris"},
        },
    }
    kube.create(AIJobResource.from_dict(body))
    return namespace


def write(kube: Client, namespace: str, *series: dict[str, Any]) -> dict[str, Any]:
    history = {"startedAt": "2025-05-01T10:00:00Z", "series": list(series)}
    patched = kube.patch(
        AIJobResource.Status,
        "curves",
        {"status": {"metricHistory": history}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    stored: dict[str, Any] = patched["status"]["metricHistory"]
    return stored


def test_a_history_is_stored_as_written(kube: Client, job: str) -> None:
    stored = write(kube, job, SERIES, {**SERIES, "name": "accuracy", "axis": "epoch"})
    assert stored["series"][0] == SERIES
    assert [series["name"] for series in stored["series"]] == ["loss", "accuracy"]


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ([{**SERIES, "values": [1.0]}], "x, values and seconds must have the same length"),
        (
            [{**SERIES, "x": list(range(201)), "values": [0] * 201, "seconds": [0] * 201}],
            "Too many: 201: must have at most 200 items",
        ),
        ([{**SERIES, "name": f"m{i}"} for i in range(9)], "must have at most 8 items"),
        ([SERIES, SERIES], "Duplicate value"),
        ([{**SERIES, "axis": "minute"}], 'Unsupported value: "minute"'),
    ],
    ids=["lengths", "points", "series", "duplicate-name", "axis"],
)
def test_the_api_server_refuses_what_breaks_the_bounds(
    kube: Client, job: str, series: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ApiError) as refused:
        write(kube, job, *series)
    assert refused.value.status.code == 422
    assert message in (refused.value.status.message or "")
