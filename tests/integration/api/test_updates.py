"""CEL transition rules: spec fields cannot change once the job exists; cancel cannot be undone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.kubectl import kubectl

VALID = {
    "apiVersion": "aijob.dev/v1alpha1",
    "kind": "AIJob",
    "metadata": {"name": "steady"},
    "spec": {
        "task": "training",
        "model": {"type": "random_forest", "hyperparameters": {"nEstimators": 10}},
        "dataset": {"name": "iris"},
        "podTemplate": {"labels": {"team": "a"}},
    },
}


@pytest.fixture
def existing(namespace: str, aijob_crd: str, tmp_path: Any) -> str:
    path = tmp_path / "steady.yaml"
    path.write_text(json.dumps(VALID))
    kubectl("apply", "-f", str(path), "-n", namespace)
    return namespace


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"task": "inference"}, "spec.task: Forbidden: spec.task is immutable"),
        ({"framework": "pytorch"}, "spec.framework: Forbidden: spec.framework is immutable"),
        ({"model": {"hyperparameters": {"nEstimators": 11}}}, "spec.model is immutable"),
        ({"dataset": {"name": "wine"}}, "spec.dataset is immutable"),
        ({"resources": {"gpu": 1}}, "spec.resources: Forbidden: spec.resources is immutable"),
        ({"priority": "high"}, "spec.priority is immutable"),
        ({"retryPolicy": {"maxRetries": 5}}, "spec.retryPolicy is immutable"),
        ({"timeoutSeconds": 60}, "spec.timeoutSeconds is immutable"),
        ({"queue": "team-a"}, "spec.queue is immutable"),
        ({"podTemplate": {"labels": {"team": "b"}}}, "spec.podTemplate is immutable"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_running_jobs_keep_their_spec(existing: str, patch: dict[str, Any], expected: str) -> None:
    result = kubectl(
        "patch",
        "aijob",
        "steady",
        "-n",
        existing,
        "--type=merge",
        "-p",
        json.dumps({"spec": patch}),
        check=False,
    )
    assert result.returncode != 0
    assert expected in result.stderr


def test_cancel_and_ttl_may_change_but_cancel_only_once(existing: str) -> None:
    for patch in ({"ttlSecondsAfterFinished": 30}, {"cancel": True}):
        kubectl(
            "patch",
            "aijob",
            "steady",
            "-n",
            existing,
            "--type=merge",
            "-p",
            json.dumps({"spec": patch}),
        )
    undo = kubectl(
        "patch",
        "aijob",
        "steady",
        "-n",
        existing,
        "--type=merge",
        "-p",
        '{"spec": {"cancel": false}}',
        check=False,
    )
    assert undo.returncode != 0
    assert (
        "spec.cancel: Invalid value: false: a cancelled job cannot be un-cancelled" in undo.stderr
    )
