"""The seed queue's routes, called with the seed README's own curl examples and bodies."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
from aijob_api.constants import ANNOTATION_DESCRIPTION
from lightkube import Client

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import (
    RunningGateway,
    TenantKey,
    get_aijob,
    list_aijobs,
    patch_status,
)

SEED_STATUSES = {"pending", "running", "completed", "failed", "cancelled"}
SEED_FIELDS = {
    "job_id",
    "job_type",
    "status",
    "created_at",
    "updated_at",
    "result",
    "error",
    "metadata",
    "framework",
    "worker_type",
}


def store(tenant: TenantKey, path: str) -> str:
    """A path in the tenant's store, the one place a worker pod reads files from."""
    return f"/var/lib/aijob/artifacts/{tenant.namespace}/{path}"


def curl(*args: str) -> Any:
    """Run curl as the README does and parse the JSON it prints."""
    completed = subprocess.run(
        ["curl", "--silent", "--show-error", "--fail-with-body", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(completed.stdout)


def test_readme_curl_examples_work_with_only_a_key_header(
    gateway: RunningGateway, tenant: TenantKey, kube: Client
) -> None:
    key = f"X-API-Key: {tenant.key}"
    # README, Quick Start step 2: submit a training job. Its /data/train.csv is no file a
    # worker pod can read: refused at submit, naming the field and what to send instead.
    refused = subprocess.run(
        [
            "curl", "--silent", "--show-error", "--write-out", "\n%{http_code}",
            "-X", "POST", f"{gateway.url}/jobs/training",
            "-H", "Content-Type: application/json",
            "-H", key,
            "-d", '{"model_type": "transformer", "data_path": "/data/train.csv"}',
        ],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    problem_text, status_code = refused.stdout.rsplit("\n", 1)
    problem = json.loads(problem_text)
    assert status_code == "422"
    assert problem["field"] == "data_path"
    assert "sentiment" in problem["detail"]
    assert f"file://{store(tenant, '')}" in problem["detail"]
    assert list_aijobs(kube, tenant.namespace) == []  # nothing was created
    # The same request with a bundled data set.
    training = curl(
        "-X", "POST", f"{gateway.url}/jobs/training",
        "-H", "Content-Type: application/json",
        "-H", key,
        "-d", '{"model_type": "transformer", "data_path": "sentiment"}',
    )  # fmt: skip
    assert set(training) >= SEED_FIELDS
    assert training["status"] == "pending"
    assert training["job_type"] == "training"
    assert training["framework"] == "pytorch"
    stored = get_aijob(kube, tenant.namespace, training["job_id"])
    assert stored["spec"]["model"]["type"] == "transformer"
    assert stored["spec"]["dataset"]["name"] == "sentiment"
    assert "uri" not in stored["spec"]["dataset"]
    # Step 3: submit an inference job.
    inference = curl(
        "-X", "POST", f"{gateway.url}/jobs/inference",
        "-H", "Content-Type: application/json",
        "-H", key,
        "-d", '{"model_id": "model_123", "input_data": "sample text"}',
    )  # fmt: skip
    assert inference["job_type"] == "inference"
    stored = get_aijob(kube, tenant.namespace, inference["job_id"])
    assert stored["spec"]["input"]["records"] == ["sample text"]
    assert stored["spec"]["model"]["source"] == {"trainingJob": "model-123"}
    # Step 4: check job status.
    status = curl(f"{gateway.url}/jobs/{training['job_id']}/status", "-H", key)
    assert status["job_id"] == training["job_id"]
    assert status["status"] in SEED_STATUSES
    # The API endpoints list: GET /jobs.
    listed = curl(f"{gateway.url}/jobs", "-H", key)
    assert isinstance(listed, list)
    assert {job["job_id"] for job in listed} == {inference["job_id"], training["job_id"]}
    created = [job["created_at"] for job in listed]
    assert created == sorted(created, reverse=True)  # newest first (ties: by name)
    # And the FAQ's health check needs no key at all.
    assert curl(f"{gateway.url}/health") == {"status": "healthy", "kubernetes": "connected"}


def test_faq_training_body(api: httpx.Client, tenant: TenantKey, kube: Client) -> None:
    data_path = store(tenant, "data/sentiment_analysis.csv")
    body = {
        "model_type": "bert",
        "data_path": data_path,
        "hyperparameters": {"epochs": 5, "learning_rate": 0.001, "batch_size": 16},
        "description": "BERT sentiment analysis training",
        "requires_gpu": False,
    }
    job = api.post("/jobs/training", json=body).json()
    assert job["metadata"] == body
    stored = get_aijob(kube, tenant.namespace, job["job_id"])
    assert stored["spec"]["model"]["hyperparameters"] == body["hyperparameters"]
    assert stored["metadata"]["annotations"][ANNOTATION_DESCRIPTION] == body["description"]
    assert stored["spec"]["resources"]["gpu"] == 0
    assert stored["spec"]["dataset"]["uri"] == "file://" + data_path


def test_gpu_and_framework_override(api: httpx.Client, tenant: TenantKey, kube: Client) -> None:
    body = {
        "model_type": "resnet",
        "data_path": "digits",
        "hyperparameters": {"epochs": 10, "learning_rate": 0.001, "batch_size": 32},
        "description": "Train ResNet-50 for image classification",
        "requires_gpu": True,
        "framework_override": "pytorch-2.0-gpu",
    }
    job = api.post("/jobs/training", json=body).json()
    assert job["worker_type"] == "pytorch-gpu"
    stored = get_aijob(kube, tenant.namespace, job["job_id"])
    assert stored["spec"]["framework"] == "pytorch"
    assert stored["spec"]["resources"]["gpu"] == 1
    bad = api.post("/jobs/training", json={**body, "framework_override": "caffe"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "framework_override"
    missing = api.post("/jobs/training", json={"data_path": "digits"})
    assert missing.status_code == 422
    assert missing.json()["field"] == "model_type"


def test_status_follows_the_job_to_completion(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    job_id = api.post(
        "/jobs/training", json={"model_type": "random_forest", "data_path": "iris"}
    ).json()["job_id"]
    patch_status(kube, tenant.namespace, job_id, {"phase": "Running", "progress": {"percent": 60}})

    def running() -> dict[str, Any]:
        status: dict[str, Any] = api.get(f"/jobs/{job_id}/status").json()
        assert status["status"] == "running"
        return status

    assert eventually(running, timeout=Timeout.API)["progress"] == 0.6
    patch_status(
        kube,
        tenant.namespace,
        job_id,
        {
            "phase": "Succeeded",
            "results": {"metrics": {"accuracy": 0.95}, "modelUri": "file:///m/rf.joblib"},
        },
    )

    def completed() -> dict[str, Any]:
        status: dict[str, Any] = api.get(f"/jobs/{job_id}/status").json()
        assert status["status"] == "completed"
        return status

    result = eventually(completed, timeout=Timeout.API)["result"]
    assert result["model_id"] == job_id
    assert result["model_path"] == "file:///m/rf.joblib"
    assert result["metrics"] == {"accuracy": 0.95}
    # An inference job naming that training job takes its model type and framework.
    inference = api.post("/jobs/inference", json={"model_id": job_id, "input_data": "1,2,3,4"})
    stored = get_aijob(kube, tenant.namespace, inference.json()["job_id"])
    assert stored["spec"]["model"]["type"] == "random_forest"
    assert stored["spec"]["framework"] == "sklearn"
    completed_only = api.get("/jobs", params={"status": "completed"}).json()
    assert [job["job_id"] for job in completed_only] == [job_id]


def test_cancel_and_idempotency_on_seed_routes(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    body = {"model_type": "svm", "data_path": "wine"}
    first = api.post("/jobs/training", json=body, headers={"Idempotency-Key": "seed-1"})
    again = api.post("/jobs/training", json=body, headers={"Idempotency-Key": "seed-1"})
    assert first.json()["job_id"] == again.json()["job_id"]
    changed = api.post(
        "/jobs/training",
        json={**body, "model_type": "random_forest"},
        headers={"Idempotency-Key": "seed-1"},
    )
    assert changed.status_code == 409
    cancelled = api.delete(f"/jobs/{first.json()['job_id']}")
    assert cancelled.status_code == 200
    assert get_aijob(kube, tenant.namespace, first.json()["job_id"])["spec"]["cancel"] is True
    assert api.get("/jobs/nope/status").status_code == 404
