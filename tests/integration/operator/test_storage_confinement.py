"""s3 mode on a real API server: a job naming a URI outside its tenant's bucket fails before
any Job exists, saying which field; a job inside it runs with its bucket's artifact URI, the
tenant's keys by reference only, and (inference) the checksum its training job recorded.
An AIEndpoint is held to the same store: outside it, Failed naming the field and no
child; inside it, the server's settings file carries the recorded checksum."""

from __future__ import annotations

import pytest
import yaml
from aijob_api import contract
from aijob_api.conditions import Phase, Reason
from aijob_api.endpoint_conditions import EndpointPhase, EndpointReason
from lightkube import Client

from tests.integration.operator.endpoints import AIEndpoints, endpoint_manifest
from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout, eventually
from tests.support.storage import minio_settings

CHECKSUM = "0f" * 32


@pytest.fixture
def s3_mode(operator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator in s3 mode on the local MinIO (as the chart's local values set it)."""
    monkeypatch.setenv("AIJOB_OPERATOR_STORAGE_MODE", "s3")
    monkeypatch.setenv("AIJOB_OPERATOR_S3_ENDPOINT", minio_settings()["AIJOB_S3_ENDPOINT"])


@pytest.mark.usefixtures("s3_mode", "operator")
@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"dataset": {"uri": "s3://aijob-someone-else/data.csv"}}, "spec.dataset.uri"),
        ({"dataset": {"uri": "file:///var/lib/aijob/artifacts/other/data.csv"}},
         "spec.dataset.uri"),
        ({"model": {"type": "random_forest", "hyperparameters": {"warmStart": "/etc/passwd"}}},
         "spec.model.hyperparameters.warmStart"),
    ],
)  # fmt: skip
def test_a_uri_outside_the_tenants_bucket_fails_before_any_job(
    aijobs: AIJobs, namespace: str, spec: dict[str, object], field: str
) -> None:
    aijobs.create(manifest("outside", namespace, **spec))
    failed = aijobs.wait_phase("outside", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    assert (failed.status.message or "").startswith(f"{field}: ")
    assert aijobs.job("outside") is None


@pytest.mark.usefixtures("s3_mode", "operator")
def test_jobs_inside_the_bucket_run_with_its_uris_and_the_recorded_checksum(
    aijobs: AIJobs, namespace: str
) -> None:
    bucket = f"aijob-{namespace}"
    aijobs.create(
        manifest("train", namespace, podTemplate=simulated({"aijob.dev/fake-run-seconds": "2"}))
    )
    aijobs.wait_phase("train", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    env = aijobs.worker_env("train")
    assert env[contract.ENV_ARTIFACT_URI] == f"s3://{bucket}/jobs/train/"
    assert env["AWS_ENDPOINT_URL"] == minio_settings()["AIJOB_S3_ENDPOINT"]
    assert env["AWS_ACCESS_KEY_ID"] is None  # a secretKeyRef, never a value
    assert env["AWS_SECRET_ACCESS_KEY"] is None
    job = aijobs.job("train")
    assert job is not None
    assert job.spec is not None
    assert job.spec.template.spec is not None
    volumes = job.spec.template.spec.volumes or []
    assert not [volume.name for volume in volumes if volume.hostPath is not None]

    model = f"s3://{bucket}/jobs/train/model"
    manifest_uri = f"{model}/{contract.MODEL_MANIFEST_FILE}"
    artifacts = [
        {"name": contract.MODEL_MANIFEST_ARTIFACT, "uri": manifest_uri, "sha256": CHECKSUM}
    ]
    aijobs.patch_status("train", {"results": {"modelUri": model, "artifacts": artifacts}})
    aijobs.wait_phase("train", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    aijobs.create(
        manifest(
            "predict",
            namespace,
            task="inference",
            dataset=None,
            model={"type": "random_forest", "source": {"trainingJob": "train"}},
            input={"records": [[5.1, 3.5, 1.4, 0.2]]},
            podTemplate=simulated({"aijob.dev/fake-run-seconds": "1"}),
        )
    )
    aijobs.wait_phase("predict", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    env = aijobs.worker_env("predict")
    assert env[contract.ENV_MODEL_URI] == model
    assert env[contract.ENV_MODEL_SHA256] == CHECKSUM


@pytest.mark.usefixtures("s3_mode", "operator")
def test_a_training_jobs_model_outside_the_bucket_is_refused(
    aijobs: AIJobs, namespace: str
) -> None:
    aijobs.create(
        manifest("train", namespace, podTemplate=simulated({"aijob.dev/fake-run-seconds": "1"}))
    )
    aijobs.wait_phase("train", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    # What a hostile worker could write into its own job's status: another tenant's model.
    aijobs.patch_status("train", {"results": {"modelUri": "s3://aijob-victim/jobs/x/model"}})
    aijobs.wait_phase("train", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    aijobs.create(
        manifest(
            "predict",
            namespace,
            task="inference",
            dataset=None,
            model={"type": "random_forest", "source": {"trainingJob": "train"}},
            input={"records": [[5.1, 3.5, 1.4, 0.2]]},
        )
    )
    failed = aijobs.wait_phase("predict", Phase.FAILED, timeout=Timeout.API)
    assert "status.results.modelUri of training job train" in (failed.status.message or "")
    assert aijobs.job("predict") is None


@pytest.fixture
def endpoints(kube: Client, namespace: str) -> AIEndpoints:
    """AIEndpoints of the test's namespace."""
    return AIEndpoints(kube, namespace)


@pytest.mark.usefixtures("s3_mode", "operator")
def test_an_endpoint_outside_the_bucket_fails_without_children(
    endpoints: AIEndpoints, namespace: str
) -> None:
    body = endpoint_manifest("stolen", "unused")
    body["spec"]["model"] = {"type": "random_forest", "source": {"uri": "s3://aijob-victim/m"}}
    endpoints.create(body)
    failed = endpoints.wait_phase(
        "stolen", EndpointPhase.FAILED, timeout=Timeout.API, reason=EndpointReason.INVALID_SPEC
    )
    message = failed.status.message or ""
    assert message.startswith("spec.model.source.uri: 's3://aijob-victim/m': outside"), message
    assert endpoints.children("stolen") == []


@pytest.mark.usefixtures("s3_mode", "operator")
def test_an_endpoint_serves_only_a_recorded_model_inside_the_bucket_with_its_checksum(
    aijobs: AIJobs, endpoints: AIEndpoints, namespace: str
) -> None:
    bucket = f"aijob-{namespace}"
    for name, model in (
        ("train", f"s3://{bucket}/jobs/train/model"),
        ("planted", "s3://aijob-victim/jobs/x/model"),
    ):
        aijobs.create(
            manifest(name, namespace, podTemplate=simulated({"aijob.dev/fake-run-seconds": "1"}))
        )
        aijobs.wait_phase(name, Phase.RUNNING, timeout=Timeout.SCHEDULING)
        artifacts = [
            {
                "name": contract.MODEL_MANIFEST_ARTIFACT,
                "uri": f"{model}/{contract.MODEL_MANIFEST_FILE}",
                "sha256": CHECKSUM,
            }
        ]
        aijobs.patch_status(name, {"results": {"modelUri": model, "artifacts": artifacts}})
        aijobs.wait_phase(name, Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)

    endpoints.create(endpoint_manifest("planted", "planted"))
    failed = endpoints.wait_phase("planted", EndpointPhase.FAILED, timeout=Timeout.API)
    assert "status.results.modelUri of training job planted" in (failed.status.message or "")
    assert endpoints.children("planted") == []

    endpoints.create(endpoint_manifest("served", "train"))

    def config_map() -> dict[str, object]:
        found = endpoints.config_map("served")
        assert found is not None, "no settings file yet"
        assert found.data is not None
        loaded: dict[str, object] = yaml.safe_load(found.data["serve.yaml"])
        return loaded

    settings = eventually(config_map, timeout=Timeout.API, what="the server's settings")
    assert settings["modelUri"] == f"s3://{bucket}/jobs/train/model"
    assert settings["modelSha256"] == CHECKSUM
