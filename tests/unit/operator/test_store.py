"""The AIJob store: newest body wins, slim bodies, and who waits on which training job."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_operator.store import AIJobStore, is_newer


def body(name: str, version: str, phase: str = "", training: str | None = None) -> dict[str, Any]:
    model: dict[str, Any] = {"type": "svm"}
    if training:
        model["source"] = {"trainingJob": training}
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "resourceVersion": version,
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {"task": "inference" if training else "training", "model": model},
        "status": {"phase": phase} if phase else {},
    }


def test_newest_body_wins() -> None:
    store = AIJobStore()
    assert store.put(body("a", "10", "Queued"))
    assert store.put(body("a", "12", "Running"))
    assert not store.put(body("a", "11", "Queued")), "an older watch event must not win"
    stored = store.get(("ns", "a"))
    assert stored is not None
    assert stored["status"]["phase"] == "Running"
    assert "managedFields" not in stored["metadata"]


@pytest.mark.parametrize(
    ("candidate", "known", "newer"),
    [
        ("11", "10", True),
        ("9", "10", False),
        ("10", "10", False),
        ("x", "10", True),
        ("", "1", True),
    ],
)
def test_is_newer(candidate: str, known: str, newer: bool) -> None:
    assert is_newer(candidate, known) is newer


def test_dependents_follow_the_spec() -> None:
    store = AIJobStore()
    store.put(body("infer-1", "1", training="train"))
    store.put(body("infer-2", "2", training="train"))
    assert store.dependents(("ns", "train")) == [("ns", "infer-1"), ("ns", "infer-2")]
    store.remove(("ns", "infer-1"))
    assert store.dependents(("ns", "train")) == [("ns", "infer-2")]
    store.put(body("infer-2", "3", training="other"))
    assert store.dependents(("ns", "train")) == []
    assert store.dependents(("ns", "other")) == [("ns", "infer-2")]


def test_jobs_on_an_endpoint_are_found_by_the_endpoint() -> None:
    store = AIJobStore()
    on_iris = body("predict-1", "1")
    on_iris["spec"] = {"task": "inference", "model": {"type": "svm"}, "endpoint": "iris"}
    store.put(on_iris)
    store.put(body("infer-2", "2", training="iris"))
    assert store.endpoint_users(("ns", "iris")) == [("ns", "predict-1")]
    assert store.dependents(("ns", "iris")) == [("ns", "infer-2")], "two separate indexes"
    store.remove(("ns", "predict-1"))
    assert store.endpoint_users(("ns", "iris")) == []


def test_phase_counts() -> None:
    store = AIJobStore()
    store.put(body("a", "1", "Running"))
    store.put(body("b", "1", "Running"))
    store.put(body("c", "1"))
    assert store.phase_counts() == {("Running", ""): 2, ("New", ""): 1}
    assert len(store) == 3
