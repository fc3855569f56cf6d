"""The contract reader: every unusable variable is bad input naming it."""

from __future__ import annotations

import json

import pytest

from aijob_worker.context import DEFAULT_PROGRESS_INTERVAL_SECONDS, JobContext
from aijob_worker.errors import BadInputError

TRAINING = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}


def test_parses_a_complete_environment() -> None:
    context = JobContext.from_env(
        {
            "AIJOB_NAME": "train-1",
            "AIJOB_NAMESPACE": "team-a",
            "AIJOB_UID": "1234",
            "AIJOB_POD_NAME": "train-1-0-abc",
            "AIJOB_SPEC": json.dumps(TRAINING),
            "AIJOB_FRAMEWORK": "sklearn",
            "AIJOB_ARTIFACT_URI": "s3://bucket/team-a/train-1",
            "AIJOB_PROGRESS_INTERVAL_SECONDS": "2.5",
        }
    )
    assert context.reports_to_cluster
    assert context.framework == "sklearn"
    assert context.artifact_uri == "s3://bucket/team-a/train-1"
    assert context.progress_interval == 2.5
    assert context.spec.model.type == "random_forest"


def test_defaults_when_only_the_spec_is_given() -> None:
    context = JobContext.from_env({"AIJOB_SPEC": json.dumps(TRAINING)})
    assert not context.reports_to_cluster
    assert context.framework == "sklearn"  # routed from the model type
    assert context.progress_interval == DEFAULT_PROGRESS_INTERVAL_SECONDS
    assert context.artifact_uri.startswith("file:///var/lib/aijob/artifacts/")


@pytest.mark.parametrize(
    ("env", "field", "words"),
    [
        ({}, "AIJOB_SPEC", "is not set"),
        ({"AIJOB_SPEC": "{not json"}, "AIJOB_SPEC", "not valid JSON"),
        (
            {"AIJOB_SPEC": json.dumps({"task": "training", "model": {"type": "svm"}})},
            "spec",
            "dataset",
        ),
        (
            {"AIJOB_SPEC": json.dumps({**TRAINING, "task": "dreaming"})},
            "spec.task",
            "training",
        ),
        (
            {"AIJOB_SPEC": json.dumps(TRAINING), "AIJOB_FRAMEWORK": "caffe"},
            "AIJOB_FRAMEWORK",
            "unknown framework",
        ),
        (
            {"AIJOB_SPEC": json.dumps(TRAINING), "AIJOB_PROGRESS_INTERVAL_SECONDS": "soon"},
            "AIJOB_PROGRESS_INTERVAL_SECONDS",
            "not a number",
        ),
        (
            {"AIJOB_SPEC": json.dumps(TRAINING), "AIJOB_PROGRESS_INTERVAL_SECONDS": "-1"},
            "AIJOB_PROGRESS_INTERVAL_SECONDS",
            ">= 0",
        ),
        (
            {"AIJOB_SPEC": json.dumps(TRAINING), "AIJOB_NAME": "x"},
            "AIJOB_NAMESPACE",
            "set together",
        ),
    ],
)
def test_bad_environment_names_the_field(env: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(BadInputError) as caught:
        JobContext.from_env(env)
    assert caught.value.field == field
    assert words in str(caught.value)
