"""Inference jobs waiting for (or failing with) the training job they load a model from."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_operator.dependency import DependencyState, resolve_dependency

from tests.unit.operator.factories import aijob, at

INFERENCE = {
    "task": "inference",
    "model": {"type": "svm", "source": {"trainingJob": "train"}},
    "input": {"records": [[1, 2]]},
}
TRAINING = {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}}


def training(status: dict[str, Any] | None, spec: dict[str, Any] | None = None) -> Any:
    return aijob("train", spec=spec or TRAINING, status=status, uid="train-uid")


@pytest.mark.parametrize(
    ("given", "now", "state", "uri", "says"),
    [
        (None, 10, DependencyState.WAITING, None, "does not exist (yet)"),
        (None, 500, DependencyState.FAILED, None, "does not exist"),
        (training({"phase": "Running"}), 10, DependencyState.WAITING, None, "it is Running"),
        (training(None), 10, DependencyState.WAITING, None, "it is new"),
        (
            training({"phase": "Succeeded", "results": {"modelUri": "file:///a/m.joblib"}}),
            10,
            DependencyState.READY,
            "file:///a/m.joblib",
            "",
        ),
        (training({"phase": "Succeeded"}), 10, DependencyState.FAILED, None, "no results.modelUri"),
        (
            training({"phase": "Failed", "message": "exit 3"}),
            10,
            DependencyState.FAILED,
            None,
            "ended Failed: exit 3",
        ),
        (training({"phase": "Cancelled"}), 10, DependencyState.FAILED, None, "ended Cancelled"),
        (training(None, spec=INFERENCE), 10, DependencyState.FAILED, None, "not training"),
    ],
)
def test_training_dependency(
    given: Any, now: float, state: DependencyState, uri: str | None, says: str
) -> None:
    dependency = resolve_dependency(aijob("infer", spec=INFERENCE), given, at(now), 120)
    assert dependency.state is state
    assert dependency.model_uri == uri
    assert says in dependency.message


def test_grace_left_is_reported() -> None:
    dependency = resolve_dependency(aijob("infer", spec=INFERENCE), None, at(100), 120)
    assert dependency.retry_after == pytest.approx(20)


def test_model_uri_and_training_need_nothing() -> None:
    by_uri = {**INFERENCE, "model": {"type": "svm", "source": {"uri": "s3://b/k"}}}
    ready = resolve_dependency(aijob("infer", spec=by_uri), None, at(0), 0)
    assert (ready.state, ready.model_uri) == (DependencyState.READY, "s3://b/k")
    none = resolve_dependency(aijob("t", spec=TRAINING), None, at(0), 0)
    assert none.state is DependencyState.NONE
