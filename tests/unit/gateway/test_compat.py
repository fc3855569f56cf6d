"""The seed job queue's requests and responses, mapped onto AIJobs."""

from __future__ import annotations

import json

import pytest
from aijob_api.conditions import Phase
from aijob_api.constants import ANNOTATION_DESCRIPTION
from aijob_api.routing import Framework
from aijob_gateway.errors import InvalidRequestError
from aijob_gateway.schemas.compat import SeedInferenceRequest, SeedTrainingRequest
from aijob_gateway.services import compat

from tests.unit.gateway.factories import make_job

TENANT = "team-a"
STORE = f"/var/lib/aijob/artifacts/{TENANT}/"
# The bodies of the seed README and its FAQ, verbatim but for data paths the pod can read.
README_TRAINING = {"model_type": "transformer", "data_path": "/data/train.csv"}
README_INFERENCE = {"model_id": "model_123", "input_data": "sample text"}
FAQ_TRAINING = {
    "model_type": "bert",
    "data_path": STORE + "data/sentiment_analysis.csv",
    "hyperparameters": {"epochs": 5, "learning_rate": 0.001, "batch_size": 16},
    "description": "BERT sentiment analysis training",
    "requires_gpu": False,
}


def test_readme_training_body_is_refused_naming_what_to_send() -> None:
    with pytest.raises(InvalidRequestError) as error:
        compat.training_job(SeedTrainingRequest.model_validate(README_TRAINING), None, TENANT)
    assert error.value.field == "data_path"
    assert error.value.detail.startswith("data_path: '/data/train.csv'")
    assert "iris" in error.value.detail
    assert f"file://{STORE}" in error.value.detail


def test_readme_training_body_with_a_bundled_data_set() -> None:
    body = {**README_TRAINING, "data_path": "sentiment"}
    new = compat.training_job(SeedTrainingRequest.model_validate(body), None, TENANT)
    assert new.spec.task == "training"
    assert new.spec.model.type == "transformer"
    assert new.spec.dataset is not None
    assert new.spec.dataset.name == "sentiment"
    assert new.spec.dataset.uri is None
    assert new.spec.resolved_framework is Framework.PYTORCH
    assert new.spec.resources.gpu == 0
    assert (
        json.loads(new.annotations[compat.ANNOTATION_SEED_REQUEST])["model_type"] == "transformer"
    )


def test_faq_training_body() -> None:
    new = compat.training_job(SeedTrainingRequest.model_validate(FAQ_TRAINING), "req-7", TENANT)
    assert new.spec.model.hyperparameters == FAQ_TRAINING["hyperparameters"]
    assert new.spec.dataset is not None
    assert new.spec.dataset.uri == f"file://{STORE}data/sentiment_analysis.csv"
    assert new.description == "BERT sentiment analysis training"
    assert new.client_request_id == "req-7"


def test_readme_inference_body() -> None:
    new = compat.inference_job(SeedInferenceRequest.model_validate(README_INFERENCE), None, None)
    assert new.spec.task == "inference"
    assert new.spec.model.source is not None
    assert new.spec.model.source.training_job == "model-123"
    assert new.spec.input is not None
    assert new.spec.input.records == ["sample text"]
    assert new.spec.model.type == compat.DEFAULT_INFERENCE_MODEL_TYPE


def test_inference_takes_type_and_framework_from_the_training_job() -> None:
    training = make_job("trained-rf", model_type="random_forest", status={"framework": "sklearn"})
    body = SeedInferenceRequest(model_id="trained-rf", input_data=[[5.1, 3.5, 1.4, 0.2]])
    new = compat.inference_job(body, None, training)
    assert new.spec.model.type == "random_forest"
    assert new.spec.framework is Framework.SKLEARN
    assert new.spec.input is not None
    assert new.spec.input.records == [[5.1, 3.5, 1.4, 0.2]]


@pytest.mark.parametrize(
    ("override", "framework", "gpu"),
    [
        ("pytorch-2.1", Framework.PYTORCH, False),
        ("pytorch-2.0-gpu", Framework.PYTORCH, True),
        ("tensorflow", Framework.TENSORFLOW, False),
        ("sklearn", Framework.SKLEARN, False),
        ("Transformers", Framework.TRANSFORMERS, False),
    ],
)
def test_framework_override(override: str, framework: Framework, gpu: bool) -> None:
    assert compat.parse_framework_override(override) == (framework, gpu)
    body = SeedTrainingRequest(model_type="resnet", data_path="digits", framework_override=override)
    new = compat.training_job(body, None, TENANT)
    assert new.spec.framework is framework
    assert new.spec.resources.gpu == (1 if gpu else 0)


def test_requires_gpu_asks_for_one_gpu() -> None:
    body = SeedTrainingRequest(model_type="resnet", data_path="digits", requires_gpu=True)
    assert compat.training_job(body, None, TENANT).spec.resources.gpu == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"model_type": "resnet", "data_path": "digits", "framework_override": "jax"},
            "framework_override",
        ),
        ({"model_type": "Res Net!", "data_path": "digits"}, "model_type"),
        ({"model_type": "resnet", "data_path": "http://x/y.csv"}, "data_path"),
        ({"model_type": "resnet", "data_path": "x" * 64}, "data_path"),
        ({"model_type": "resnet", "data_path": "digits", "hyperparameters": {"a": 1}}, None),
    ],
)
def test_bad_training_fields_are_named(body: dict[str, object], field: str | None) -> None:
    request = SeedTrainingRequest.model_validate(body)
    if field is None:
        compat.training_job(request, None, TENANT)
        return
    with pytest.raises(InvalidRequestError) as error:
        compat.training_job(request, None, TENANT)
    assert error.value.field == field
    assert field in error.value.detail


@pytest.mark.parametrize(
    ("path", "dataset"),
    [
        ("iris", {"name": "iris"}),
        ("breast_cancer", {"name": "breast_cancer"}),
        (STORE + "train.csv", {"uri": f"file://{STORE}train.csv"}),
        (f"file://{STORE}data/./train.csv", {"uri": f"file://{STORE}data/train.csv"}),
        ("s3://bucket/key.csv", {"uri": "s3://bucket/key.csv"}),
    ],
)
def test_data_paths_the_pod_can_read(path: str, dataset: dict[str, str]) -> None:
    assert compat.training_dataset(path, TENANT) == dataset


@pytest.mark.parametrize(
    "path",
    [
        "/data/train.csv",
        "data/train.csv",
        "train.csv",
        "file:///x.csv",
        "file://host/var/lib/aijob/artifacts/team-a/x.csv",
        "/var/lib/aijob/artifacts/team-b/x.csv",  # another tenant's store
        STORE + "../team-b/x.csv",
        "/var/lib/aijob/artifacts/team-a",  # the store itself, not a file in it
        "/var/lib/aijob/artifacts/team-ab/x.csv",
        "s3://",
        "Iris",
    ],
)
def test_data_paths_the_pod_cannot_read_are_refused(path: str) -> None:
    with pytest.raises(InvalidRequestError) as error:
        compat.training_dataset(path, TENANT)
    assert error.value.field == "data_path"
    assert f"file://{STORE}" in error.value.detail


@pytest.mark.parametrize(
    ("model_id", "source"),
    [
        ("job-0123abcd", {"trainingJob": "job-0123abcd"}),
        ("model_123", {"trainingJob": "model-123"}),
        ("file:///models/m.joblib", {"uri": "file:///models/m.joblib"}),
        ("s3://b/m", {"uri": "s3://b/m"}),
    ],
)
def test_model_source(model_id: str, source: dict[str, str]) -> None:
    assert compat.model_source(model_id) == source


def test_model_id_without_a_usable_name_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as error:
        compat.model_source("___")
    assert error.value.field == "model_id"


@pytest.mark.parametrize(
    ("phase", "status"),
    [
        (Phase.PENDING, "pending"),
        (Phase.QUEUED, "pending"),
        (Phase.RUNNING, "running"),
        (Phase.RETRYING, "running"),
        (Phase.SUCCEEDED, "completed"),
        (Phase.FAILED, "failed"),
        (Phase.CANCELLED, "cancelled"),
    ],
)
def test_seed_status_vocabulary(phase: Phase, status: str) -> None:
    assert compat.seed_status(phase) == status


def test_seed_job_status_of_a_finished_training_job() -> None:
    job = make_job(
        "job-1",
        gpu=1,
        annotations={ANNOTATION_DESCRIPTION: "rf on iris"},
        status={
            "phase": "Succeeded",
            "framework": "sklearn",
            "progress": {"percent": 100, "updatedAt": "2025-01-01T12:05:00Z"},
            "completionTime": "2025-01-01T12:06:00Z",
            "results": {"metrics": {"accuracy": 0.95}, "modelUri": "file:///a/model.joblib"},
        },
    )
    status = compat.seed_job_status(job)
    assert status.job_id == "job-1"
    assert status.job_type == "training"
    assert status.status == "completed"
    assert status.progress == 1.0
    assert status.result == {
        "framework": "sklearn",
        "metrics": {"accuracy": 0.95},
        "model_id": "job-1",
        "model_path": "file:///a/model.joblib",
    }
    assert status.updated_at.isoformat().startswith("2025-01-01T12:06")
    assert status.metadata is not None
    assert status.metadata["description"] == "rf on iris"
    assert status.worker_type == "sklearn-gpu"
    assert status.error is None


def test_seed_job_status_says_why_it_failed() -> None:
    job = make_job("job-2", status={"phase": "Failed", "message": "bad hyperparameter epochs"})
    status = compat.seed_job_status(job)
    assert status.status == "failed"
    assert status.error == "bad hyperparameter epochs"
    assert status.result is None
