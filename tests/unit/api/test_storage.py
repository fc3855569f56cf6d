"""The confinement rule: every URI a spec names stays inside its tenant's own store."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.models import AIJobSpec
from aijob_api.storage import (
    StorageMode,
    TenantStore,
    bucket_problem,
    is_path_like,
    spec_uri_problem,
    tenant_bucket,
    tenant_store,
    uri_problem,
)

S3 = TenantStore("s3", "aijob-team-a")
FILES = TenantStore("file", "/var/lib/aijob/artifacts/team-a")

INSIDE = [
    (S3, "s3://aijob-team-a/jobs/train/model"),
    (S3, "s3://aijob-team-a/data/iris.csv"),
    (S3, "s3://aijob-team-a/jobs/train/model/"),
    (FILES, "file:///var/lib/aijob/artifacts/team-a/train/model"),
    (FILES, "file://localhost/var/lib/aijob/artifacts/team-a/data.csv"),
    (FILES, "/var/lib/aijob/artifacts/team-a/data.csv"),
]
OUTSIDE = [
    (S3, "s3://aijob-team-b/jobs/train/model", "outside this namespace's store"),
    (S3, "s3://aijob-team-a.evil/x", "outside this namespace's store"),
    (S3, "s3://AIJOB-TEAM-A/x", "outside this namespace's store"),
    (S3, "s3://aijob-team-a:9000/x", "ports"),
    (S3, "s3://user@aijob-team-a/x", "user info"),
    (S3, "s3://aijob-team-a/jobs/../../x", "'..'"),
    (S3, "s3://aijob-team-a/./x", "'.'"),
    (S3, "s3://aijob-team-a/a//b", "empty path segments"),
    (S3, "s3://aijob-team-a/%2e%2e/x", "percent-encoded"),
    (S3, "s3://aijob-team-%61/x", "percent-encoded"),
    (S3, "s3://aijob-team-a/x?versionId=1", "queries"),
    (S3, "s3://aijob-team-a/x#frag", "fragments"),
    (S3, "s3://aijob-team-a/x\\..\\y", "backslashes"),
    (S3, "s3://aijob-team-a/x\n", "control characters"),
    (S3, "file:///var/lib/aijob/artifacts/team-a/x", "only s3://"),
    (S3, "/etc/passwd", "only s3://"),
    (S3, "http://aijob-team-a/x", "only s3://"),
    (FILES, "file:///var/lib/aijob/artifacts/team-b/train/model", "outside"),
    (FILES, "file:///var/lib/aijob/artifacts/team-a-evil/x", "outside"),
    (FILES, "file:///var/lib/aijob/artifacts/team-a", "outside"),
    (FILES, "file:///var/lib/aijob/artifacts/team-a/../team-b/x", "'..'"),
    (FILES, "file:///var/lib/aijob/artifacts/team-a/%2e%2e/team-b", "percent-encoded"),
    (FILES, "file://other-host/var/lib/aijob/artifacts/team-a/x", "local absolute path"),
    (FILES, "/etc/shadow", "outside"),
    (FILES, "s3://aijob-team-a/x", "only file://"),
]


@pytest.mark.parametrize(("store", "uri"), INSIDE)
def test_inside_the_store_is_accepted(store: TenantStore, uri: str) -> None:
    assert uri_problem(uri, store) is None


@pytest.mark.parametrize(("store", "uri", "words"), OUTSIDE)
def test_outside_the_store_is_refused_saying_why(store: TenantStore, uri: str, words: str) -> None:
    problem = uri_problem(uri, store)
    assert problem is not None
    assert words in problem


def _spec(**overrides: Any) -> AIJobSpec:
    document: dict[str, Any] = {
        "task": "training",
        "model": {"type": "random_forest"},
        "dataset": {"name": "iris"},
    }
    document.update(overrides)
    return AIJobSpec.model_validate(document)


SPECS = [
    ({"dataset": {"uri": "s3://aijob-team-b/d.csv"}}, "spec.dataset.uri"),
    (
        {
            "task": "inference",
            "model": {"type": "random_forest", "source": {"uri": "s3://aijob-team-b/m"}},
            "input": {"records": [[1]]},
        },
        "spec.model.source.uri",
    ),
    (
        {
            "task": "inference",
            "model": {"type": "random_forest", "source": {"trainingJob": "t"}},
            "input": {"uri": "file:///etc/passwd"},
        },
        "spec.input.uri",
    ),
    (
        {"model": {"type": "text_classifier", "hyperparameters": {"modelDir": "/models/x"}}},
        "spec.model.hyperparameters.modelDir",
    ),
    (
        {"model": {"type": "mlp", "hyperparameters": {"extra": {"paths": ["ok", "s3://x/y"]}}}},
        "spec.model.hyperparameters.extra.paths[1]",
    ),
]


@pytest.mark.parametrize(("overrides", "field"), SPECS)
def test_a_spec_names_the_first_field_outside(overrides: dict[str, Any], field: str) -> None:
    found = spec_uri_problem(_spec(**overrides), S3)
    assert found is not None
    assert found[0] == field
    assert found[1].startswith(f"{field}: ")


def test_a_spec_inside_its_store_passes() -> None:
    spec = _spec(
        dataset={"uri": "s3://aijob-team-a/data/iris.csv"},
        model={
            "type": "text_classifier",
            "hyperparameters": {"modelDir": "s3://aijob-team-a/base/", "baseModel": "org/name"},
        },
    )
    assert spec_uri_problem(spec, S3) is None


@pytest.mark.parametrize(
    ("value", "path"),
    [("/x", True), ("s3://b/k", True), ("file:///x", True), ("../x", True), ("~/x", True),
     ("gs://b/k", True), ("org/model-name", False), ("adam", False), ("0.01", False)],
)  # fmt: skip
def test_path_like_hyperparameters(value: str, path: bool) -> None:
    assert is_path_like(value) is path


def test_tenant_buckets_and_stores() -> None:
    assert tenant_bucket("team-a") == "aijob-team-a"
    assert tenant_bucket("team-a", "acme-{namespace}-ml") == "acme-team-a-ml"
    with pytest.raises(ValueError, match="must contain"):
        tenant_bucket("team-a", "fixed")
    with pytest.raises(ValueError, match="not a valid bucket name"):
        tenant_bucket("team-a", "UPPER-{namespace}")
    assert bucket_problem("a" * 64) is not None
    store = tenant_store(
        StorageMode.S3, "team-a", bucket_template="aijob-{namespace}", artifacts_root="/r"
    )
    assert store.job_uri("train") == "s3://aijob-team-a/jobs/train/"
    files = tenant_store(
        StorageMode.HOST_PATH, "team-a", bucket_template="aijob-{namespace}", artifacts_root="/r/"
    )
    assert files.job_uri("train") == "file:///r/team-a/train"
    assert uri_problem(files.job_uri("train") + "/model", files) is None
    assert uri_problem(store.job_uri("train") + "model", store) is None
