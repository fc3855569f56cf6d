"""The AIJob models: the same rules as the CRD, errors that name the field, camelCase wire."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.models import AIJob, AIJobSpec, AIJobStatus, Priority
from aijob_api.routing import Framework
from pydantic import ValidationError

TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {"type": "random_forest"},
    "dataset": {"name": "iris"},
}
INFERENCE: dict[str, Any] = {
    "task": "inference",
    "model": {"type": "random_forest", "source": {"trainingJob": "train"}},
    "input": {"records": [[5.1, 3.5, 1.4, 0.2]]},
}


def test_defaults() -> None:
    spec = AIJobSpec.model_validate(TRAINING)
    assert spec.priority is Priority.NORMAL
    assert spec.retry_policy.max_retries == 2
    assert spec.resources.gpu == 0
    assert spec.cancel is False
    assert spec.resolved_framework is Framework.SKLEARN


def test_camel_case_on_the_wire() -> None:
    spec = AIJobSpec.model_validate(
        {**TRAINING, "retryPolicy": {"maxRetries": 1}, "ttlSecondsAfterFinished": 60}
    )
    wire = spec.model_dump(by_alias=True, exclude_none=True)
    assert wire["retryPolicy"] == {"maxRetries": 1}
    assert wire["ttlSecondsAfterFinished"] == 60
    assert AIJobSpec.model_validate(wire) == spec


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"task": "inference", "dataset": None}, "model.source"),
        ({"dataset": None}, "dataset"),
        ({"dataset": {"name": "iris", "uri": "file:///d.csv"}}, "dataset"),
        ({"dataset": {}}, "dataset"),
        ({"resources": {"gpu": -1}}, "gpu"),
        ({"resources": {"gpu": 65}}, "gpu"),
        ({"resources": {"memory": "lots"}}, "memory"),
        ({"resources": {"cpu": "1.2.3"}}, "cpu"),
        ({"retryPolicy": {"maxRetries": 11}}, "maxRetries"),
        ({"priority": "urgent"}, "priority"),
        ({"framework": "cobol"}, "framework"),
        ({"timeoutSeconds": 0}, "timeoutSeconds"),
        ({"queue": "Not_A_Label"}, "queue"),
        ({"model": {"type": "Random Forest"}}, "model.type"),
        ({"podTemplate": {"labels": {"aijob.dev/job-name": "x"}}}, "podTemplate.labels"),
        ({"podTemplate": {"labels": {"team": "not valid!"}}}, "podTemplate.labels"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_training_specs_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        AIJobSpec.model_validate({**TRAINING, **change})
    assert field.split(".")[-1] in str(raised.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"input": None}, "input"),
        ({"input": {"records": [1], "uri": "file:///in.csv"}}, "input"),
        ({"model": {"type": "svm", "source": {}}}, "model.source"),
        ({"input": {"records": [0] * 1001}}, "records"),
        ({"model": {"type": "svm", "source": {"uri": "http://x"}}}, "uri"),
    ],
)
def test_bad_inference_specs_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        AIJobSpec.model_validate({**INFERENCE, **change})
    assert field.split(".")[-1] in str(raised.value)


@pytest.mark.parametrize(
    "quantity", ["500m", "2", "0.5", "4Gi", "512Mi", "1e3", "1.5G", "+1", ".5"]
)
def test_quantities_kubernetes_accepts(quantity: str) -> None:
    AIJobSpec.model_validate({**TRAINING, "resources": {"cpu": quantity, "memory": quantity}})


def test_whole_resource_round_trip() -> None:
    job = AIJob.model_validate(
        {
            "apiVersion": "aijob.dev/v1alpha1",
            "kind": "AIJob",
            "metadata": {"name": "x", "namespace": "ns", "managedFields": []},
            "spec": INFERENCE,
            "status": {"phase": "Running", "attempts": 1, "progress": {"percent": 50}},
        }
    )
    manifest = job.to_manifest()
    assert manifest["spec"]["model"]["source"] == {"trainingJob": "train"}
    assert manifest["status"]["progress"]["percent"] == 50
    assert AIJobStatus.model_validate(manifest["status"]).attempts == 1
