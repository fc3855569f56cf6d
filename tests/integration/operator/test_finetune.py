"""spec.model.pretrained on a real API server with the operator in-process: the worker pod gets
the pretrained reference and the hub token by secretKeyRef from the job's own Secret; a stored
model outside the tenant's store fails before any Job exists; the store's Secret is refused."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from aijob_api import contract
from aijob_api.conditions import Phase, Reason
from aijob_api.pretrained import HUB_TOKEN_ENV
from lightkube import ApiError, Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout
from tests.support.storage import minio_settings

TOKEN = {"name": "aijob-user-hub-token", "key": "token"}


def fine_tuning(name: str, namespace: str, pretrained: Mapping[str, object]) -> dict[str, object]:
    return manifest(
        name,
        namespace,
        model={"type": "bert", "pretrained": pretrained},
        dataset={"name": "sentiment"},
        podTemplate=simulated({"aijob.dev/fake-run-seconds": "30"}),
    )


@pytest.mark.usefixtures("operator")
def test_the_pod_gets_the_pretrained_model_and_the_token_by_reference(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    kube.create(
        Secret(
            metadata=ObjectMeta(name=TOKEN["name"], namespace=namespace),
            stringData={TOKEN["key"]: "hf_secret_value"},
        )
    )
    pretrained = {"hubId": "org/tiny-bert", "tokenSecret": TOKEN}
    aijobs.create(fine_tuning("tune", namespace, pretrained))
    aijobs.wait_phase("tune", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    job = aijobs.job("tune")
    assert job is not None
    assert job.spec is not None
    assert job.spec.template.spec is not None
    (container,) = job.spec.template.spec.containers
    (token,) = [item for item in container.env or [] if item.name == HUB_TOKEN_ENV]
    assert token.value is None
    assert token.valueFrom is not None
    assert token.valueFrom.secretKeyRef is not None
    reference = token.valueFrom.secretKeyRef
    assert (reference.name, reference.key) == (TOKEN["name"], TOKEN["key"])
    assert "hf_secret_value" not in json.dumps(job.to_dict())
    metadata = job.spec.template.metadata
    annotations = (metadata.annotations if metadata else None) or {}
    delivered = json.loads(annotations[contract.SPEC_ANNOTATION])
    assert delivered["model"]["pretrained"] == {**pretrained, "format": "huggingface"}


@pytest.mark.usefixtures("operator")
def test_the_stores_own_secret_is_refused_as_a_token(aijobs: AIJobs, namespace: str) -> None:
    pretrained = {"hubId": "org/tiny-bert", "tokenSecret": {"name": "aijob-storage", "key": "x"}}
    with pytest.raises(ApiError) as error:
        aijobs.create(fine_tuning("steal", namespace, pretrained))
    assert error.value.status.code == 422
    assert "tokenSecret cannot be the store's Secret aijob-storage" in str(error.value)


@pytest.fixture
def s3_mode(operator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator in s3 mode on the local MinIO (as the chart's local values set it)."""
    monkeypatch.setenv("AIJOB_OPERATOR_STORAGE_MODE", "s3")
    monkeypatch.setenv("AIJOB_OPERATOR_S3_ENDPOINT", minio_settings()["AIJOB_S3_ENDPOINT"])


@pytest.mark.usefixtures("s3_mode", "operator")
def test_a_pretrained_model_outside_the_tenants_store_fails_before_any_job(
    aijobs: AIJobs, namespace: str
) -> None:
    pretrained = {"uri": "s3://aijob-someone-else/models/bert"}
    aijobs.create(fine_tuning("foreign-model", namespace, pretrained))
    failed = aijobs.wait_phase("foreign-model", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    assert (failed.status.message or "").startswith("spec.model.pretrained.uri: ")
    assert aijobs.job("foreign-model") is None


@pytest.mark.usefixtures("operator")
def test_a_token_secret_outside_the_admins_allow_list_fails_before_any_job(
    aijobs: AIJobs, namespace: str
) -> None:
    pretrained = {"hubId": "org/tiny-bert", "tokenSecret": {"name": "hub-token", "key": "t"}}
    aijobs.create(fine_tuning("unlisted", namespace, pretrained))
    failed = aijobs.wait_phase("unlisted", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    message = failed.status.message or ""
    assert message.startswith("spec.model.pretrained.tokenSecret.name: the Secret 'hub-token'")
    assert aijobs.job("unlisted") is None
