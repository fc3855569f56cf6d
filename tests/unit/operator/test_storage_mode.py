"""s3 mode: worker pods reach the tenant's bucket with its Secret, mount no hostPath, and a
job that names a URI outside its tenant's store never gets a pod."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aijob_api import contract
from aijob_api.storage import STORAGE_SECRET, StorageMode
from aijob_operator.builders.job import PodSettings, artifact_uri, build_job
from aijob_operator.builders.pod import pod_settings
from aijob_operator.catalog import load_catalog
from aijob_operator.config import OperatorConfig
from aijob_operator.decide import Action, Inputs, decide
from aijob_operator.dependency import NO_DEPENDENCY, Dependency, DependencyState, store_problem
from pydantic import ValidationError

from tests.unit.operator.factories import aijob

CATALOG = load_catalog()
S3 = PodSettings(
    storage_mode=StorageMode.S3, s3_endpoint="http://10.250.0.1:32900", s3_region="eu-west-1"
)
BASE = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}
INFER = {
    "task": "inference",
    "model": {"type": "random_forest", "source": {"trainingJob": "train"}},
    "input": {"records": [[1, 2, 3, 4]]},
}


def _job(settings: PodSettings, spec: dict[str, Any] = BASE, **kw: Any) -> dict[str, Any]:
    job = aijob("train", spec=spec)
    runtime = CATALOG.resolve(job.spec.resolved_framework, job.spec.framework_version)
    return build_job(job, runtime, settings, **kw).to_dict()


def _env(job: dict[str, Any]) -> dict[str, Any]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def test_s3_pods_get_the_tenant_secret_by_reference_and_no_host_path() -> None:
    job = _job(S3)
    pod = job["spec"]["template"]["spec"]
    env = _env(job)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[key] == {"secretKeyRef": {"name": STORAGE_SECRET, "key": key}}
    assert env["AWS_ENDPOINT_URL"] == "http://10.250.0.1:32900"
    assert env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env[contract.ENV_ARTIFACT_URI] == "s3://aijob-ns/jobs/train/"
    assert not any("hostPath" in volume for volume in pod["volumes"])
    mounts = [mount["mountPath"] for mount in pod["containers"][0]["volumeMounts"]]
    assert contract.ARTIFACTS_MOUNT_PATH not in mounts


def test_host_path_mode_keeps_the_node_directory_and_no_credentials() -> None:
    job = _job(PodSettings())
    env = _env(job)
    assert "AWS_ACCESS_KEY_ID" not in env
    assert env[contract.ENV_ARTIFACT_URI] == "file:///var/lib/aijob/artifacts/ns/train"
    assert any("hostPath" in volume for volume in job["spec"]["template"]["spec"]["volumes"])


def test_the_expected_model_checksum_reaches_the_worker() -> None:
    job = _job(S3, INFER, model_uri="s3://aijob-ns/jobs/train/model", model_checksum="ab" * 32)
    env = _env(job)
    assert env[contract.ENV_MODEL_SHA256] == "ab" * 32
    assert env[contract.ENV_MODEL_URI] == "s3://aijob-ns/jobs/train/model"


def test_operator_settings_choose_s3_by_default() -> None:
    settings = pod_settings(OperatorConfig())
    assert settings.storage_mode is StorageMode.S3
    assert artifact_uri("team-a", "j", settings) == "s3://aijob-team-a/jobs/j/"
    custom = pod_settings(OperatorConfig(s3_bucket_template="acme-{namespace}-ml"))
    assert artifact_uri("team-a", "j", custom) == "s3://acme-team-a-ml/jobs/j/"


@pytest.mark.parametrize(
    ("values", "field"),
    [({"s3_bucket_template": "no-namespace"}, "s3_bucket_template"),
     ({"s3_endpoint": "ftp://x"}, "s3_endpoint"), ({"storage_mode": "nfs"}, "storage_mode")],
)  # fmt: skip
def test_bad_storage_settings_are_refused_naming_them(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field if field != "s3_bucket_template" else "{"):
        OperatorConfig(**values)


READY = Dependency(
    DependencyState.READY, model_uri="s3://aijob-ns/jobs/train/model", training_job="train"
)


@pytest.mark.parametrize(
    ("spec", "dependency", "words"),
    [
        ({**BASE, "dataset": {"uri": "s3://aijob-other/d.csv"}}, NO_DEPENDENCY, "spec.dataset.uri"),
        ({**BASE, "dataset": {"uri": "file:///etc/passwd"}}, NO_DEPENDENCY, "spec.dataset.uri"),
        (INFER, Dependency(DependencyState.READY, model_uri="s3://aijob-other/m",
                           training_job="train"), "status.results.modelUri of training job train"),
        ({**INFER, "model": {"type": "random_forest", "source": {"uri": "s3://aijob-ns/../x"}}},
         NO_DEPENDENCY, "spec.model.source.uri"),
    ],
)  # fmt: skip
def test_a_job_outside_its_store_fails_before_any_pod(
    spec: dict[str, Any], dependency: Dependency, words: str
) -> None:
    job = aijob("train", spec=spec)
    problem = store_problem(job, dependency, S3.store)
    assert problem is not None
    assert words in problem
    runtime = CATALOG.resolve(job.spec.resolved_framework, job.spec.framework_version)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    decision = decide(
        Inputs(aijob=job, now=now, runtime=runtime, runtime_error=problem, dependency=dependency)
    )
    assert decision.action is Action.NOTHING
    assert decision.status.phase == "Failed"
    assert decision.status.message is not None
    assert words in decision.status.message


def test_a_job_inside_its_store_is_created_with_the_checksum() -> None:
    job = aijob("predict", spec=INFER)
    ready = Dependency(
        DependencyState.READY,
        model_uri="s3://aijob-ns/jobs/train/model",
        training_job="train",
        model_checksum="cd" * 32,
    )
    assert store_problem(job, ready, S3.store) is None
    runtime = CATALOG.resolve(job.spec.resolved_framework, job.spec.framework_version)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    decision = decide(Inputs(aijob=job, now=now, runtime=runtime, dependency=ready))
    assert decision.action is Action.CREATE_CHILDREN
    assert decision.model_checksum == "cd" * 32


def test_a_namespace_without_a_valid_bucket_name_is_the_problem() -> None:
    settings = PodSettings(storage_mode=StorageMode.S3, s3_bucket_template="{namespace}")
    job = aijob("train", spec=BASE)  # namespace "ns": a two-character bucket name
    problem = store_problem(job, NO_DEPENDENCY, settings.store)
    assert problem is not None
    assert "not a valid bucket name" in problem
