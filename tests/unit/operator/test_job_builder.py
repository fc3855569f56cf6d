"""build_job: the Job that runs an AIJob (table-driven over the spec fields that shape it)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aijob_api import contract
from aijob_operator.builders.job import PodSettings, artifact_uri, build_job
from aijob_operator.catalog import load_catalog, parse_catalog
from aijob_operator.placement import PodToleration

from tests.unit.operator.factories import UID, aijob

CATALOG = load_catalog()
BASE = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}


def built(
    spec: dict[str, Any] | None = None, settings: PodSettings | None = None, **kw: Any
) -> dict[str, Any]:
    job = aijob("train", spec={**BASE, **(spec or {})})
    runtime = CATALOG.resolve(job.spec.resolved_framework, job.spec.framework_version)
    return build_job(job, runtime, settings or PodSettings(), **kw).to_dict()


def pod_spec(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["template"]["spec"]
    return spec


def worker(job: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any]
    (container,) = pod_spec(job)["containers"]
    return container


def env(job: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in worker(job)["env"]}


@pytest.mark.parametrize(
    ("spec", "path", "expected"),
    [
        ({}, ("spec", "backoffLimit"), 2),
        ({"retryPolicy": {"maxRetries": 0}}, ("spec", "backoffLimit"), 0),
        ({"retryPolicy": {"maxRetries": 5}}, ("spec", "backoffLimitPerIndex"), 5),
        ({}, ("spec", "activeDeadlineSeconds"), None),
        ({"timeoutSeconds": 90}, ("spec", "activeDeadlineSeconds"), 90),
        ({}, ("spec", "suspend"), False),
        ({"queue": "team-a"}, ("spec", "suspend"), True),
        ({"queue": "team-a"}, ("metadata", "labels", "kueue.x-k8s.io/queue-name"), "team-a"),
        ({}, ("metadata", "labels", "kueue.x-k8s.io/queue-name"), None),
        (
            {"queue": "q", "priority": "low"},
            ("metadata", "labels", "kueue.x-k8s.io/priority-class"),
            "aijob-low",
        ),
        ({}, ("metadata", "labels", "kueue.x-k8s.io/priority-class"), None),
        ({"priority": "high"}, ("spec", "template", "spec", "priorityClassName"), "aijob-high"),
        ({}, ("spec", "template", "spec", "priorityClassName"), "aijob-normal"),
        ({"priority": "low"}, ("metadata", "labels", "aijob.dev/priority"), "low"),
        ({}, ("metadata", "labels", "aijob.dev/framework"), "sklearn"),
        ({"model": {"type": "bert"}}, ("metadata", "labels", "aijob.dev/framework"), "pytorch"),
        ({}, ("spec", "completionMode"), "Indexed"),
        ({}, ("spec", "completions"), 1),
        ({}, ("spec", "template", "spec", "restartPolicy"), "Never"),
        ({}, ("spec", "template", "spec", "serviceAccountName"), "train-aijob-worker"),
        ({}, ("metadata", "name"), "train"),
    ],
)
def test_job_fields(spec: dict[str, Any], path: tuple[str, ...], expected: object) -> None:
    value: Any = built(spec)
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    assert value == expected


@pytest.mark.parametrize(
    ("spec", "requests", "limits", "tolerated"),
    [
        ({}, {"cpu": "500m", "memory": "1Gi"}, {"cpu": "500m", "memory": "1Gi"}, False),
        (
            {"resources": {"cpu": "2", "memory": "4Gi"}},
            {"cpu": "2", "memory": "4Gi"},
            {"cpu": "2", "memory": "4Gi"},
            False,
        ),
        (
            {"resources": {"gpu": 2}, "model": {"type": "resnet"}, "dataset": {"name": "digits"}},
            {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "2"},
            {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "2"},
            True,
        ),
    ],
)
def test_resources_and_gpu_toleration(
    spec: dict[str, Any], requests: dict[str, str], limits: dict[str, str], tolerated: bool
) -> None:
    job = built(spec)
    assert worker(job)["resources"] == {"requests": requests, "limits": limits}
    tolerations = pod_spec(job).get("tolerations") or []
    gpu_toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert (gpu_toleration in tolerations) is tolerated


GPU_SPEC: dict[str, Any] = {
    "resources": {"gpu": 1},
    "model": {"type": "mlp"},
    "dataset": {"name": "digits"},
}
CPU_PLACEMENT = PodSettings(
    cpu_node_selector={"aijob.dev/real-node": "true"},
    cpu_tolerations=(PodToleration(key="aijob.dev/real-node", operator="Exists"),),
)


def test_cpu_pods_follow_the_configured_placement_and_gpu_pods_do_not() -> None:
    cpu = pod_spec(built({}, CPU_PLACEMENT))
    assert cpu["nodeSelector"] == {"aijob.dev/real-node": "true"}
    assert cpu["tolerations"] == [{"key": "aijob.dev/real-node", "operator": "Exists"}]
    gpu = pod_spec(built(GPU_SPEC, CPU_PLACEMENT))
    assert "nodeSelector" not in gpu
    assert [t["key"] for t in gpu["tolerations"]] == ["nvidia.com/gpu"]


PLACED_CATALOG = parse_catalog(
    """
frameworks:
  pytorch:
    defaultVersion: "2"
    versions:
      "2":
        image: reg/torch:2
        gpuCapable: true
        placement:
          nodeSelector: {pool: ml, aijob.dev/real-node: "false"}
          tolerations: [{key: pool, operator: Equal, value: ml, effect: NoSchedule}]
"""
)
POOL_TOLERATION = {"key": "pool", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
REAL_NODE_TOLERATION = {"key": "aijob.dev/real-node", "operator": "Exists"}


@pytest.mark.parametrize(
    ("gpus", "node_selector", "tolerations"),
    [
        (
            0,
            {"aijob.dev/real-node": "false", "pool": "ml"},
            [POOL_TOLERATION, REAL_NODE_TOLERATION],
        ),
        (2, {"aijob.dev/real-node": "false", "pool": "ml"}, [POOL_TOLERATION, GPU_TOLERATION]),
    ],
    ids=["cpu", "gpu"],
)
def test_the_runtimes_placement_goes_on_every_pod_and_wins_over_the_cpu_settings(
    gpus: int, node_selector: dict[str, str], tolerations: list[dict[str, Any]]
) -> None:
    job = aijob("train", spec={**BASE, **GPU_SPEC, "resources": {"gpu": gpus}})
    runtime = PLACED_CATALOG.resolve_for(job.spec)
    spec = pod_spec(build_job(job, runtime, CPU_PLACEMENT).to_dict())
    assert spec["nodeSelector"] == node_selector
    assert spec["tolerations"] == tolerations


def test_pod_failure_policy_ignores_disruptions_and_fails_on_bad_input() -> None:
    rules = built()["spec"]["podFailurePolicy"]["rules"]
    assert rules[0] == {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    assert rules[1]["action"] == "FailJob"
    assert rules[1]["onExitCodes"] == {
        "containerName": contract.CONTAINER_NAME,
        "operator": "In",
        "values": [contract.EXIT_BAD_INPUT],
    }
    assert len(rules) == 2, "exit 143 (checkpointed) and other codes count as a retry"


def test_worker_contract_environment() -> None:
    variables = env(built({"frameworkVersion": "1.9"}))
    assert variables[contract.ENV_JOB_NAME] == "train"
    assert variables[contract.ENV_NAMESPACE] == "ns"
    assert variables[contract.ENV_JOB_UID] == UID
    assert variables[contract.ENV_FRAMEWORK] == "sklearn"
    assert variables[contract.ENV_FRAMEWORK_VERSION] == "1.9"
    assert variables[contract.ENV_ARTIFACT_URI] == "file:///var/lib/aijob/artifacts/ns/train"
    assert variables[contract.ENV_POD_NAME] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert variables[contract.ENV_FAILED_ATTEMPTS] == {
        "fieldRef": {
            "fieldPath": "metadata.annotations['batch.kubernetes.io/job-index-failure-count']"
        }
    }
    assert variables[contract.ENV_SPEC_FILE] == "/etc/aijob/spec.json"
    assert contract.ENV_SPEC not in variables, "the spec is a file, not a variable"
    assert contract.ENV_MODEL_URI not in variables
    assert variables["OMP_NUM_THREADS"] == "1", "the catalog's variables are passed on"


def test_model_uri_for_inference() -> None:
    spec = {
        "task": "inference",
        "model": {"type": "random_forest", "source": {"trainingJob": "train"}},
        "input": {"records": [[1, 2, 3, 4]]},
        "dataset": None,
    }
    variables = env(built(spec, model_uri="file:///var/lib/aijob/artifacts/ns/train/model"))
    assert variables[contract.ENV_MODEL_URI] == "file:///var/lib/aijob/artifacts/ns/train/model"


def test_restricted_security_context() -> None:
    job = built()
    pod = pod_spec(job)["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] == contract.RUN_AS_USER
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    container = worker(job)["securityContext"]
    assert container == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    mounts = {m["mountPath"] for m in worker(job)["volumeMounts"]}
    assert mounts == {
        contract.ARTIFACTS_MOUNT_PATH,
        contract.SCRATCH_MOUNT_PATH,
        contract.SPEC_MOUNT_PATH,
    }


@pytest.mark.parametrize(
    ("settings", "volume"),
    [
        (
            PodSettings(),
            {"hostPath": {"path": "/var/lib/aijob/artifacts", "type": "DirectoryOrCreate"}},
        ),
        (PodSettings(artifacts_pvc="models"), {"persistentVolumeClaim": {"claimName": "models"}}),
    ],
)
def test_artifact_volume(settings: PodSettings, volume: dict[str, Any]) -> None:
    volumes = {v["name"]: v for v in pod_spec(built({}, settings))["volumes"]}
    assert {k: v for k, v in volumes["artifacts"].items() if k != "name"} == volume


def test_pod_template_metadata_is_passed_and_ours_wins() -> None:
    spec = {
        "podTemplate": {
            "labels": {"team": "vision", "app.kubernetes.io/managed-by": "me"},
            "annotations": {"aijob.dev/fake-exit-code": "3"},
        }
    }
    metadata = built(spec)["spec"]["template"]["metadata"]
    assert metadata["labels"]["team"] == "vision"
    assert metadata["labels"]["app.kubernetes.io/managed-by"] == "aijob-operator"
    assert metadata["labels"]["aijob.dev/job-name"] == "train"
    assert metadata["annotations"]["aijob.dev/fake-exit-code"] == "3"


def test_the_spec_reaches_the_worker_as_a_file_projected_from_an_annotation() -> None:
    job = built({"podTemplate": {"annotations": {contract.SPEC_ANNOTATION: "forged"}}})
    annotations = job["spec"]["template"]["metadata"]["annotations"]
    spec = json.loads(annotations[contract.SPEC_ANNOTATION])  # ours wins over the user's
    assert spec["model"]["type"] == "random_forest"
    assert spec["retryPolicy"] == {"maxRetries": 2}
    volumes = {volume["name"]: volume for volume in pod_spec(job)["volumes"]}
    assert volumes["spec"]["downwardAPI"] == {
        "items": [
            {
                "path": "spec.json",
                "fieldRef": {"fieldPath": "metadata.annotations['aijob.dev/spec']"},
            }
        ]
    }
    mounts = {mount["name"]: mount for mount in worker(job)["volumeMounts"]}
    assert mounts["spec"] == {"name": "spec", "mountPath": "/etc/aijob", "readOnly": True}
    assert f"{mounts['spec']['mountPath']}/spec.json" == env(job)[contract.ENV_SPEC_FILE]


def test_a_thousand_inline_records_of_200_characters_fit_in_the_pods_annotations() -> None:
    records = [f"{index:04d}" + "x" * 196 for index in range(1000)]
    job = built(
        {
            "task": "inference",
            "model": {"type": "random_forest", "source": {"trainingJob": "train"}},
            "input": {"records": records},
            "dataset": None,
        }
    )
    annotations = job["spec"]["template"]["metadata"]["annotations"]
    spec = json.loads(annotations[contract.SPEC_ANNOTATION])
    assert spec["input"]["records"] == records
    size = sum(len(key.encode()) + len(value.encode()) for key, value in annotations.items())
    assert 200_000 < size < 256 * 1024


def test_owner_reference_and_determinism() -> None:
    first, second = built(), built()
    assert first == second
    (owner,) = first["metadata"]["ownerReferences"]
    assert owner == {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIJob",
        "name": "train",
        "uid": UID,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_artifact_uri() -> None:
    assert artifact_uri("team-a", "job-1") == "file:///var/lib/aijob/artifacts/team-a/job-1"
