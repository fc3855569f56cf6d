"""Inference jobs wait for the training job they load a model from, and fail with it."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api import contract
from aijob_api.conditions import Phase, Reason

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout


def inference(name: str, namespace: str, training_job: str) -> dict[str, Any]:
    return manifest(
        name,
        namespace,
        task="inference",
        dataset=None,
        model={"type": "random_forest", "source": {"trainingJob": training_job}},
        input={"records": [[5.1, 3.5, 1.4, 0.2]]},
    )


@pytest.fixture
def short_grace(operator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> float:
    """A missing training job is given up on after two seconds."""
    monkeypatch.setenv("AIJOB_OPERATOR_DEPENDENCY_GRACE_SECONDS", "2")
    return 2.0


@pytest.mark.usefixtures("operator")
def test_inference_waits_for_training_then_runs_its_model(aijobs: AIJobs, namespace: str) -> None:
    aijobs.create(inference("predict", namespace, "train"))
    waiting = aijobs.wait_phase(
        "predict", Phase.PENDING, reason=Reason.WAITING_FOR_DEPENDENCY, timeout=Timeout.API
    )
    assert "does not exist (yet)" in (waiting.status.message or "")

    aijobs.create(
        manifest("train", namespace, podTemplate=simulated({"aijob.dev/fake-run-seconds": "4"}))
    )
    aijobs.wait_phase("train", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    still = aijobs.wait(
        "predict",
        lambda job: "it is Running" in (job.status.message or ""),
        timeout=Timeout.API,
        what="waiting on the running training job",
    )
    assert still.status.phase is Phase.PENDING
    assert aijobs.job("predict") is None
    model_uri = f"file://{contract.ARTIFACTS_MOUNT_PATH}/{namespace}/train/model"
    aijobs.patch_status("train", {"results": {"modelUri": model_uri}})  # what the worker does

    aijobs.wait_phase("train", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    aijobs.wait_phase("predict", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    env = aijobs.worker_env("predict")
    assert env[contract.ENV_MODEL_URI] == model_uri


@pytest.mark.usefixtures("short_grace", "operator")
def test_inference_fails_when_its_training_job_fails_or_never_comes(
    aijobs: AIJobs, namespace: str
) -> None:
    aijobs.create(
        manifest(
            "train-bad",
            namespace,
            retryPolicy={"maxRetries": 0},
            podTemplate=simulated({"aijob.dev/fake-exit-code": "3"}),
        )
    )
    for name, training in (("after-bad", "train-bad"), ("after-nothing", "nope")):
        aijobs.create(inference(name, namespace, training))

    bad = aijobs.wait_phase(
        "after-bad", Phase.FAILED, reason=Reason.DEPENDENCY_FAILED, timeout=Timeout.SIMULATED_JOB
    )
    assert "train-bad ended Failed" in (bad.status.message or "")
    never = aijobs.wait_phase(
        "after-nothing", Phase.FAILED, reason=Reason.DEPENDENCY_FAILED, timeout=Timeout.API
    )
    assert "nope does not exist" in (never.status.message or "")
    assert aijobs.job("after-bad") is None
    assert aijobs.job("after-nothing") is None
