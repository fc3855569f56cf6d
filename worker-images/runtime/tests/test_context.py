"""The contract reader: every unusable variable is bad input naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aijob_worker.context import DEFAULT_PROGRESS_INTERVAL_SECONDS, JobContext
from aijob_worker.errors import BadInputError

TRAINING = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}


def test_parses_a_complete_environment(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(json.dumps(TRAINING))
    context = JobContext.from_env(
        {
            "AIJOB_NAME": "train-1",
            "AIJOB_NAMESPACE": "team-a",
            "AIJOB_UID": "1234",
            "AIJOB_POD_NAME": "train-1-0-abc",
            "AIJOB_SPEC_FILE": str(tmp_path / "spec.json"),
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
        ({}, "AIJOB_SPEC_FILE", "is not set"),
        ({"AIJOB_SPEC_FILE": "/nonexistent/spec.json"}, "AIJOB_SPEC_FILE", "cannot read"),
        (
            {"AIJOB_SPEC_FILE": "/nonexistent/spec.json", "AIJOB_SPEC": json.dumps(TRAINING)},
            "AIJOB_SPEC",
            "not both",
        ),
        ({"AIJOB_SPEC": " "}, "AIJOB_SPEC", "is empty"),
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


def test_a_spec_file_of_a_thousand_records_of_200_characters(tmp_path: Path) -> None:
    records = [f"{index:04d}".ljust(200, "r") for index in range(1000)]
    spec = {
        "task": "inference",
        "model": {"type": "random_forest", "source": {"trainingJob": "train"}},
        "input": {"records": records},
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec, separators=(",", ":")))
    assert path.stat().st_size > 128 * 1024  # more than one environment variable may hold
    context = JobContext.from_env({"AIJOB_SPEC_FILE": str(path)})
    assert context.spec.input is not None
    assert context.spec.input.records == records


def test_an_invalid_spec_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text("{half")
    with pytest.raises(BadInputError) as caught:
        JobContext.from_env({"AIJOB_SPEC_FILE": str(path)})
    assert caught.value.field == f"AIJOB_SPEC_FILE ({path})"
    assert "not valid JSON" in str(caught.value)
