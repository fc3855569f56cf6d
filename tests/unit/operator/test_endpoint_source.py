"""Where an endpoint's model and runtime come from: the spec, else its training job."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api import contract
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.models import ModelSource
from aijob_api.routing import Framework
from aijob_operator.dependency import DependencyState, resolve_model_source
from aijob_operator.endpoint_source import RuntimeRequest, resolve_runtime, runtime_request
from aijob_operator.endpoint_views import DeploymentView, EndpointPodView, OwnedView

from tests.unit.operator.endpoint_factories import CATALOG, deployment_body, server_pod
from tests.unit.operator.factories import aijob, at

TRAINED_TORCH = aijob(
    "iris",
    spec={"task": "training", "model": {"type": "mlp"}, "dataset": {"name": "digits"}},
    status={"phase": "Succeeded", "framework": "pytorch", "frameworkVersion": "2.15"},
)
CHECKSUM = "ab" * 32
SUCCEEDED = aijob(
    "iris",
    status={
        "phase": "Succeeded",
        "results": {
            "modelUri": "file:///var/lib/aijob/artifacts/ns/iris/model",
            "artifacts": [
                {"name": "model/model.joblib", "uri": "file:///x", "sha256": "cd" * 32},
                {"name": contract.MODEL_MANIFEST_ARTIFACT, "uri": "file:///y", "sha256": CHECKSUM},
            ],
        },
    },
)


def spec(**fields: Any) -> AIEndpointSpec:
    return AIEndpointSpec.model_validate({"model": {"source": {"trainingJob": "iris"}}, **fields})


@pytest.mark.parametrize(
    ("fields", "training", "expected"),
    [
        ({}, TRAINED_TORCH, RuntimeRequest(Framework.PYTORCH, "2.15", "mlp")),
        ({}, None, RuntimeRequest(None, None, None)),
        ({"framework": "pytorch"}, None, RuntimeRequest(Framework.PYTORCH, None, None)),
        (
            {"model": {"source": {"uri": "file:///m"}, "type": "bert"}},
            None,
            RuntimeRequest(Framework.PYTORCH, None, "bert"),
        ),
        (
            {"framework": "transformers"},
            TRAINED_TORCH,
            RuntimeRequest(Framework.TRANSFORMERS, None, "mlp"),
        ),
        (
            {
                "frameworkVersion": "2.14",
                "model": {"source": {"trainingJob": "iris"}, "type": "cnn"},
            },
            TRAINED_TORCH,
            RuntimeRequest(Framework.PYTORCH, "2.14", "cnn"),
        ),
    ],
)
def test_the_runtime_request(
    fields: dict[str, Any], training: Any, expected: RuntimeRequest
) -> None:
    assert runtime_request(spec(**fields), training) == expected


def test_the_catalog_refuses_gpus_for_sklearn_naming_the_field() -> None:
    runtime, error = resolve_runtime(CATALOG, RuntimeRequest(Framework.SKLEARN, None, None), 1)
    assert runtime is None
    assert error is not None
    assert error.startswith("spec.resources.gpu: 1 GPU(s)")
    assert resolve_runtime(CATALOG, RuntimeRequest(None, None, None), 0) == (None, None)
    runtime, error = resolve_runtime(CATALOG, RuntimeRequest(Framework.PYTORCH, None, "mlp"), 1)
    assert error is None
    assert runtime is not None
    assert runtime.runtime.gpu_capable


def test_a_succeeded_training_job_gives_its_model_checksum_and_uid() -> None:
    resolved = resolve_model_source(ModelSource(training_job="iris"), at(0), SUCCEEDED, at(5), 60)
    assert resolved.state is DependencyState.READY
    assert resolved.model_uri == "file:///var/lib/aijob/artifacts/ns/iris/model"
    assert resolved.model_checksum == CHECKSUM
    assert (resolved.training_job, resolved.training_job_uid) == ("iris", "0000-aijob-uid")


def test_a_missing_training_job_is_waited_for_then_not_found() -> None:
    source = ModelSource(training_job="iris")
    waiting = resolve_model_source(source, at(0), None, at(5), 60)
    assert (waiting.state, waiting.found) == (DependencyState.WAITING, False)
    missing = resolve_model_source(source, at(0), None, at(61), 60)
    assert (missing.state, missing.found) == (DependencyState.FAILED, False)
    assert missing.message == "training job iris does not exist in this namespace"


def test_views_read_what_the_reconcile_needs() -> None:
    body = deployment_body()
    view = DeploymentView.from_body(body)
    assert view.desired == 1
    assert view.revision is not None
    assert view.condition("Available") is None
    assert view.model is not None
    assert view.model.training_job == "iris"
    assert view.applied_hash == body["metadata"]["annotations"]["aijob.dev/applied-hash"]
    assert OwnedView.from_body(body).owner_uid == view.owner_uid
    pod = server_pod(revision="r1", ready=True, restarts=2)
    assert isinstance(pod, EndpointPodView)
    assert (pod.ready, pod.restarts, pod.revision) == (True, 2, "r1")
    assert pod.model is not None
    assert pod.model.uri.endswith("/iris/model")
