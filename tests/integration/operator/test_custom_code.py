"""spec.code on a real API server with the operator in-process: the code ConfigMap reaches the
worker pod read-only, and code outside the tenant's store fails before any Job exists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aijob_api import contract
from aijob_api.code import CODE_MOUNT_PATH
from aijob_api.conditions import Phase, Reason
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout
from tests.support.storage import minio_settings

SCRIPT = "from aijob_worker import report\nreport(epoch=1, total_epochs=1)\n"


def custom(name: str, namespace: str, code: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A training AIJob that runs its own code (no model type, no data set)."""
    return manifest(
        name, namespace, model=None, dataset=None, framework="pytorch", code=code, **spec
    )


@pytest.mark.usefixtures("operator")
def test_the_code_configmap_is_mounted_read_only_in_the_worker_pod(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    kube.create(
        ConfigMap(
            metadata=ObjectMeta(name="my-code", namespace=namespace), data={"train.py": SCRIPT}
        )
    )
    code = {"configMap": "my-code", "entrypoint": "train.py", "args": ["--epochs", "2"]}
    aijobs.create(
        custom(
            "custom", namespace, code, podTemplate=simulated({"aijob.dev/fake-run-seconds": "30"})
        )
    )
    running = aijobs.wait_phase("custom", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    assert running.status.framework == "pytorch"
    job = aijobs.job("custom")
    assert job is not None
    assert job.spec is not None
    assert job.spec.template.spec is not None
    pod = job.spec.template.spec
    (volume,) = [item for item in pod.volumes or [] if item.configMap is not None]
    assert volume.configMap is not None
    assert (volume.configMap.name, volume.configMap.defaultMode) == ("my-code", 0o444)
    (container,) = pod.containers
    (mount,) = [item for item in container.volumeMounts or [] if item.name == volume.name]
    assert (mount.mountPath, mount.readOnly) == (CODE_MOUNT_PATH, True)
    assert container.securityContext is not None
    assert container.securityContext.readOnlyRootFilesystem is True
    annotations = job.spec.template.metadata.annotations if job.spec.template.metadata else None
    delivered = json.loads((annotations or {})[contract.SPEC_ANNOTATION])
    assert delivered["code"] == code
    assert "type" not in delivered["model"]


@pytest.fixture
def s3_mode(operator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator in s3 mode on the local MinIO (as the chart's local values set it)."""
    monkeypatch.setenv("AIJOB_OPERATOR_STORAGE_MODE", "s3")
    monkeypatch.setenv("AIJOB_OPERATOR_S3_ENDPOINT", minio_settings()["AIJOB_S3_ENDPOINT"])


@pytest.mark.usefixtures("s3_mode", "operator")
def test_code_outside_the_tenants_store_fails_before_any_job(
    aijobs: AIJobs, namespace: str
) -> None:
    code = {"archiveUri": "s3://aijob-someone-else/code.tar.gz", "module": "trainer.main"}
    aijobs.create(custom("foreign-code", namespace, code))
    failed = aijobs.wait_phase("foreign-code", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    assert (failed.status.message or "").startswith("spec.code.archiveUri: ")
    assert aijobs.job("foreign-code") is None


@pytest.mark.usefixtures("operator")
def test_a_custom_image_the_catalog_does_not_allow_fails_naming_the_rule(
    aijobs: AIJobs, namespace: str
) -> None:
    code = {"configMap": "my-code", "image": "example.com/me/trainer:1", "command": ["./run"]}
    aijobs.create(custom("own-image", namespace, code))
    failed = aijobs.wait_phase("own-image", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    message = failed.status.message or ""
    assert message.startswith("spec.code.image: custom images are not allowed in namespace")
    assert "customImages.namespaces" in message
    assert aijobs.job("own-image") is None
