"""AIJob objects for the gateway's unit tests, built with the shared models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aijob_api.models import AIJob

BASE_TIME = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def job_manifest(
    name: str,
    namespace: str = "team-a",
    *,
    task: str = "training",
    model_type: str = "random_forest",
    framework: str | None = None,
    priority: str = "normal",
    gpu: int = 0,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    age_minutes: int = 0,
    status: dict[str, Any] | None = None,
    resource_version: str = "1",
) -> dict[str, Any]:
    """The JSON of an AIJob as the API server would return it."""
    spec: dict[str, Any] = {
        "task": task,
        "model": {"type": model_type},
        "priority": priority,
        "resources": {"gpu": gpu},
    }
    if framework:
        spec["framework"] = framework
    if task == "training":
        spec["dataset"] = {"name": "iris"}
    else:
        spec["model"]["source"] = {"trainingJob": "trained"}
        spec["input"] = {"records": [[1, 2, 3, 4]]}
    created = BASE_TIME - timedelta(minutes=age_minutes)
    return {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIJob",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "resourceVersion": resource_version,
            "creationTimestamp": created.isoformat().replace("+00:00", "Z"),
            "labels": labels or {},
            "annotations": annotations or {},
        },
        "spec": spec,
        "status": status or {},
    }


def make_job(name: str, namespace: str = "team-a", **kwargs: Any) -> AIJob:
    """An AIJob model (see `job_manifest` for the options)."""
    return AIJob.model_validate(job_manifest(name, namespace, **kwargs))
