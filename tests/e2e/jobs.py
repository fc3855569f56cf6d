"""What the e2e tests share: submit over the gateway, read AIJobs, wait for a phase."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from lightkube import Client

from tests.support.eventually import eventually
from tests.support.gateway import get_aijob

GPU_IMAGE_NOTE = "GPU jobs run on the simulated KWOK GPU nodes; pod annotations drive them."


def unique(prefix: str) -> str:
    """A job name no other test of the session uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def submit(api: httpx.Client, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/jobs; the gateway's answer."""
    response = api.post("/v1/jobs", json={"name": name, "spec": spec})
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def wait_for_phase(
    kube: Client, namespace: str, name: str, phase: str, timeout: float
) -> dict[str, Any]:
    """The AIJob once its status.phase is `phase` (fails early on another final phase)."""

    def reached() -> dict[str, Any]:
        job = get_aijob(kube, namespace, name)
        status = job.get("status") or {}
        current = status.get("phase")
        if current in {"Succeeded", "Failed", "Cancelled"} and current != phase:
            raise RuntimeError(f"{name} ended {current}, not {phase}: {status.get('message')}")
        assert current == phase, f"{name} is {current}: {status.get('message')}"
        return job

    return eventually(reached, timeout=timeout, what=f"{name} {phase}")


def sklearn_training(**hyperparameters: Any) -> dict[str, Any]:
    """A small random forest on iris, on the real node."""
    return {
        "task": "training",
        "model": {
            "type": "random_forest",
            "hyperparameters": {"nEstimators": 20, "maxDepth": 4, "seed": 1, **hyperparameters},
        },
        "dataset": {"name": "iris", "testFraction": 0.2},
        "resources": {"cpu": "250m", "memory": "512Mi"},
        "retryPolicy": {"maxRetries": 2},
    }


def simulated_gpu_job(
    annotations: dict[str, str], *, gpus: int = 1, **extra: Any
) -> dict[str, Any]:
    """A training job asking for GPUs: KWOK plays its pod as the annotations say."""
    return {
        "task": "training",
        "model": {"type": "mlp"},
        "dataset": {"name": "digits"},
        "resources": {"gpu": gpus, "cpu": "1", "memory": "1Gi"},
        "podTemplate": {"annotations": annotations},
        **extra,
    }
