"""Small builders of AIJobs, Job and Pod bodies for the operator's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aijob_api.models import AIJob

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
UID = "0000-aijob-uid"
JOB_UID = "1111-job-uid"
GROUP_SPEC: dict[str, Any] = {
    "task": "training",
    "framework": "pytorch",
    "code": {"configMap": "ddp-code", "entrypoint": "train.py"},
    "dataset": {"name": "digits"},
    "resources": {"gpu": 8},
    "distributed": {"nodes": 4},
}
"""A distributed job of your own code: 4 pods of 8 GPUs."""


def at(seconds: float) -> datetime:
    """T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    """An RFC 3339 timestamp, as the API server writes them."""
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def aijob(
    name: str = "train",
    *,
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    generation: int = 1,
    uid: str = UID,
) -> AIJob:
    """A training AIJob (random forest on iris) unless `spec` says otherwise."""
    body: dict[str, Any] = {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": uid,
            "generation": generation,
            "creationTimestamp": stamp(0),
            "resourceVersion": "10",
        },
        "spec": spec
        or {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}},
    }
    if status is not None:
        body["status"] = status
    return AIJob.model_validate(body)


def job_body(
    name: str = "train",
    *,
    owner_uid: str = UID,
    conditions: list[dict[str, Any]] | None = None,
    suspend: bool = False,
    **status: Any,
) -> dict[str, Any]:
    """A Job as the API server returns it."""
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": JOB_UID,
            "labels": {"aijob.dev/job-name": name},
            "ownerReferences": [
                {"kind": "AIJob", "name": name, "uid": owner_uid, "controller": True}
            ],
        },
        "spec": {"suspend": suspend},
        "status": {**status, "conditions": conditions or []},
    }


def condition(type_: str, reason: str = "", message: str = "", at_: float = 5) -> dict[str, Any]:
    """A True condition."""
    return {
        "type": type_,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp(at_),
    }


def pod_body(
    name: str = "train-0-abcde",
    *,
    phase: str = "Pending",
    created: float = 1,
    node: str | None = None,
    conditions: list[dict[str, Any]] | None = None,
    terminated: dict[str, Any] | None = None,
    waiting: dict[str, Any] | None = None,
    failures: int = 0,
    ignored: int = 0,
    deleting: bool = False,
    job: str = "train",
) -> dict[str, Any]:
    """A worker pod as the API server returns it."""
    annotations = {"batch.kubernetes.io/job-index-failure-count": str(failures)}
    if ignored:
        annotations["batch.kubernetes.io/job-index-ignored-failure-count"] = str(ignored)
    state: dict[str, Any] = {}
    if terminated is not None:
        state["terminated"] = terminated
    elif waiting is not None:
        state["waiting"] = waiting
    elif phase == "Running":
        state["running"] = {"startedAt": stamp(created + 1)}
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": f"uid-{name}",
        "creationTimestamp": stamp(created),
        "labels": {"aijob.dev/job-name": job},
        "annotations": annotations,
        "ownerReferences": [{"kind": "Job", "name": job, "uid": JOB_UID, "controller": True}],
    }
    if deleting:
        metadata["deletionTimestamp"] = stamp(created + 10)
    status: dict[str, Any] = {"phase": phase, "conditions": conditions or []}
    if phase != "Pending" or node:
        status["startTime"] = stamp(created + 1)
    if state:
        status["containerStatuses"] = [{"name": "worker", "state": state}]
    return {"metadata": metadata, "spec": {"nodeName": node} if node else {}, "status": status}


def unschedulable(message: str) -> dict[str, Any]:
    """The PodScheduled=False condition the scheduler writes."""
    return {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
        "lastTransitionTime": stamp(2),
    }


def disrupted(reason: str = "PreemptionByScheduler", message: str = "") -> dict[str, Any]:
    """The DisruptionTarget condition of a preempted or evicted pod."""
    return {
        "type": "DisruptionTarget",
        "status": "True",
        "reason": reason,
        "message": message or "Preempted in order to admit critical pod",
        "lastTransitionTime": stamp(3),
    }


def exited(code: int, reason: str = "Error", message: str = "") -> dict[str, Any]:
    """A terminated container state."""
    return {"exitCode": code, "reason": reason, "message": message, "finishedAt": stamp(4)}
