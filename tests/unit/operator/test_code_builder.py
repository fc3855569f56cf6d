"""The Job of a job with its own code: the ConfigMap mounted read-only, nothing else changed."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.code import CODE_MOUNT_PATH
from aijob_operator.builders.job import PodSettings, build_job
from aijob_operator.catalog import CustomImages, RuntimeCatalog, load_catalog

from tests.unit.operator.factories import aijob

CATALOG = load_catalog()
CODE_SPEC = {
    "task": "training",
    "framework": "pytorch",
    "code": {"configMap": "my-code", "entrypoint": "train.py", "args": ["--epochs", "3"]},
}


def built(spec: dict[str, Any]) -> dict[str, Any]:
    job = aijob("custom", spec=spec)
    runtime = CATALOG.resolve_for(job.spec)
    return build_job(job, runtime, PodSettings()).to_dict()


def test_the_code_configmap_is_mounted_read_only() -> None:
    pod = built(CODE_SPEC)["spec"]["template"]["spec"]
    (volume,) = [item for item in pod["volumes"] if item["name"] == "code"]
    assert volume["configMap"] == {"name": "my-code", "defaultMode": 0o444, "optional": True}
    (container,) = pod["containers"]
    (mount,) = [item for item in container["volumeMounts"] if item["name"] == "code"]
    assert mount == {"name": "code", "mountPath": CODE_MOUNT_PATH, "readOnly": True}
    assert container["image"] == "aijob/worker-pytorch:0.1.0"
    # Pod Security `restricted` still holds: no new privilege, no hostPath, same user.
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_code_from_an_archive_and_built_in_models_mount_no_code() -> None:
    archive = {**CODE_SPEC, "code": {"archiveUri": "file:///x/code.zip", "module": "pkg.main"}}
    built_in = {"task": "training", "model": {"type": "mlp"}, "dataset": {"name": "iris"}}
    for spec in (archive, built_in):
        pod = built(spec)["spec"]["template"]["spec"]
        assert all(item["name"] != "code" for item in pod["volumes"])
        (container,) = pod["containers"]
        assert all(item["mountPath"] != CODE_MOUNT_PATH for item in container["volumeMounts"])


def test_the_runtime_of_a_job_without_model_type_is_its_framework() -> None:
    job = aijob("custom", spec=CODE_SPEC)
    resolved = CATALOG.resolve_for(job.spec)
    assert resolved.framework.value == "pytorch"
    assert resolved.version == "2.15"


ALLOWING = CATALOG.model_copy(update={"custom_images": CustomImages(namespaces=["team-a"])})
OWN_IMAGE = {
    **CODE_SPEC,
    "code": {"configMap": "my-code", "entrypoint": "train.py", "image": "example.com/me/trainer:1"},
}
OWN_COMMAND = {
    **CODE_SPEC,
    "code": {"configMap": "my-code", "image": "example.com/me/trainer:1", "command": ["./run"]},
}


@pytest.mark.parametrize(
    ("catalog", "namespace", "allowed"),
    [
        (CATALOG, "team-a", False),  # the shipped catalog allows no custom image
        (ALLOWING, "team-a", True),
        (ALLOWING, "team-b", False),
        (CATALOG.model_copy(update={"custom_images": CustomImages(namespaces=["*"])}), "x", True),
    ],
)
def test_custom_images_only_where_the_catalog_allows_them(
    catalog: RuntimeCatalog, namespace: str, allowed: bool
) -> None:
    spec = aijob("custom", spec=OWN_IMAGE).spec
    problem = catalog.custom_image_problem(namespace, spec)
    if allowed:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith("spec.code.image: custom images are not allowed in namespace")
        assert "customImages.namespaces" in problem
    built_in = aijob("custom", spec=CODE_SPEC).spec
    assert catalog.custom_image_problem(namespace, built_in) is None


@pytest.mark.parametrize(
    ("spec", "image", "command", "args"),
    [
        (CODE_SPEC, "aijob/worker-pytorch:0.1.0", ["python", "-m", "aijob_worker"], None),
        (OWN_IMAGE, "example.com/me/trainer:1", ["python", "-m", "aijob_worker"], None),
        (OWN_COMMAND, "example.com/me/trainer:1", ["./run"], None),
    ],
    ids=["catalog", "own-image", "own-command"],
)
def test_the_worker_runs_the_jobs_own_image_and_command(
    spec: dict[str, Any], image: str, command: list[str], args: list[str] | None
) -> None:
    (container,) = built(spec)["spec"]["template"]["spec"]["containers"]
    assert (container["image"], container["command"], container.get("args")) == (
        image,
        command,
        args,
    )
