"""A job's own env, Secrets, claims and placement in its Job; the catalog's placement; the
operator's refusal (allow-list, node selector keys) before any Job is made."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aijob_api.environment import GPU_PRODUCT_LABEL
from aijob_api.routing import Framework
from aijob_api.storage import StorageMode
from aijob_api.tenant_resources import TenantResources
from aijob_operator.builders.endpoint_deployment import build_deployment
from aijob_operator.builders.job import PodSettings, build_job
from aijob_operator.catalog import CatalogError, load_catalog, parse_catalog
from aijob_operator.config import OperatorConfig
from aijob_operator.placement import Placement, job_environment_problem

from tests.unit.operator.endpoint_factories import target
from tests.unit.operator.factories import aijob

CATALOG = load_catalog()
BASE: dict[str, Any] = {"task": "training", "model": {"type": "mlp"}, "dataset": {"name": "iris"}}
USER: dict[str, Any] = {
    "env": [
        {"name": "MODE", "value": "fast"},
        {"name": "PYTHONUNBUFFERED", "value": "0"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "aijob-user-c", "key": "t"}}},
    ],
    "envFrom": [{"secretRef": {"name": "aijob-user-env"}}],
    "volumes": [
        {"claimName": "aijob-user-data", "mountPath": "/data"},
        {"claimName": "aijob-user-out", "mountPath": "/out", "readOnly": False, "subPath": "x"},
    ],
    "placement": {"gpuProduct": "NVIDIA-H100-80GB-HBM3"},
    "resources": {"gpu": 1},
}
PLACED = """
frameworks:
  pytorch:
    defaultVersion: "1"
    versions:
      "1":
        image: img
        gpuCapable: true
        placement:
          nodeSelector: {pool: train}
          tolerations: [{key: dedicated, operator: Equal, value: ml, effect: NoSchedule}]
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                nodeSelectorTerms:
                  - matchExpressions: [{key: zone, operator: In, values: [a, b]}]
          jobNodeSelectorKeys: [example.com/rack]
"""


RESTRICTED_VOLUMES = {"configMap", "downwardAPI", "emptyDir", "persistentVolumeClaim", "secret"}
"""Volume kinds Pod Security `restricted` admits (among those aijob uses)."""


def pod(spec: dict[str, Any], catalog: str | None = None) -> dict[str, Any]:
    job = aijob("train", spec={**BASE, **spec})
    chosen = parse_catalog(catalog) if catalog else CATALOG
    runtime = chosen.resolve_for(job.spec)
    template: dict[str, Any] = build_job(
        job, runtime, PodSettings(storage_mode=StorageMode.S3)
    ).to_dict()["spec"]["template"]
    return template["spec"]  # type: ignore[no-any-return]


def test_env_secrets_and_claims_reach_the_worker() -> None:
    spec = pod(USER)
    (container,) = spec["containers"]
    env = container["env"]
    names = [item["name"] for item in env]
    assert names.count("PYTHONUNBUFFERED") == 1, "the job's variable replaces the catalog's"
    assert names[-3:] == ["MODE", "PYTHONUNBUFFERED", "TOKEN"]
    assert env[-1]["valueFrom"] == {"secretKeyRef": {"name": "aijob-user-c", "key": "t"}}
    assert container["envFrom"] == [{"secretRef": {"name": "aijob-user-env"}}]
    claims = {
        v["name"]: v["persistentVolumeClaim"]
        for v in spec["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {
        "user-0": {"claimName": "aijob-user-data", "readOnly": True},
        "user-1": {"claimName": "aijob-user-out"},
    }
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["user-0"] == {"name": "user-0", "mountPath": "/data", "readOnly": True}
    assert mounts["user-1"] == {"name": "user-1", "mountPath": "/out", "subPath": "x"}
    assert spec["nodeSelector"] == {GPU_PRODUCT_LABEL: "NVIDIA-H100-80GB-HBM3"}


def test_pod_security_restricted_still_holds_with_user_volumes() -> None:
    spec = pod(USER)
    kinds = {kind for volume in spec["volumes"] for kind in volume if kind != "name"}
    assert kinds <= RESTRICTED_VOLUMES, kinds
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_no_user_fields_change_nothing() -> None:
    spec = pod({})
    (container,) = spec["containers"]
    assert "envFrom" not in container
    assert not any(volume["name"].startswith("user-") for volume in spec["volumes"])
    assert "affinity" not in spec


def test_the_catalogs_placement_and_the_jobs_own_selector() -> None:
    spec = pod(
        {**USER, "placement": {"gpuProduct": "A100", "nodeSelector": {"example.com/rack": "r1"}}},
        PLACED,
    )
    assert spec["nodeSelector"] == {
        "example.com/rack": "r1",
        GPU_PRODUCT_LABEL: "A100",
        "pool": "train",
    }
    assert {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"} in (
        spec["tolerations"]
    )
    term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["a", "b"]


@pytest.mark.parametrize(
    "placement",
    [
        "affinity: {nodeAfinity: {}}",
        "jobNodeSelectorKeys: ['bad key!']",
    ],
)
def test_a_bad_catalog_placement_is_refused_at_start(placement: str) -> None:
    head = PLACED.split("        placement:")[0]
    text = f"{head}        placement:\n          {placement}\n"
    with pytest.raises(CatalogError):
        parse_catalog(text)


ALLOWED = TenantResources()


@pytest.mark.parametrize(
    ("spec", "runtime", "start"),
    [
        (USER, Placement(), None),
        (
            {"envFrom": [{"secretRef": {"name": "aijob-storage"}}]},
            Placement(),
            "spec.envFrom[0].secretRef.name: ",
        ),
        (
            {"volumes": [{"claimName": "shared", "mountPath": "/d"}]},
            Placement(),
            "spec.volumes[0].claimName: ",
        ),
        (
            {"placement": {"nodeSelector": {"pool": "big"}}},
            Placement(),
            "spec.placement.nodeSelector: the key 'pool' is not allowed",
        ),
        (
            {"placement": {"nodeSelector": {"pool": "big"}}},
            Placement(job_node_selector_keys=("pool",)),
            None,
        ),
    ],
)
def test_the_operator_refuses_before_any_job(
    spec: dict[str, Any], runtime: Placement, start: str | None
) -> None:
    job = aijob("train", spec={**BASE, **spec})
    problem = job_environment_problem(job.spec, runtime, ALLOWED)
    if start is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith(start)


def test_the_operators_settings_give_the_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIJOB_OPERATOR_TENANT_SECRETS", '["team-*"]')
    monkeypatch.setenv("AIJOB_OPERATOR_ARTIFACTS_PVC", "aijob-artifacts")
    allowed = OperatorConfig().tenant_resources
    assert allowed.secrets == ("team-*",)
    assert allowed.volumes == ("aijob-user-*",)
    assert allowed.claim_problem("aijob-artifacts") is not None
    assert allowed.secret_problem("team-db") is None


def test_endpoint_replicas_get_the_catalogs_affinity_too() -> None:
    runtime = parse_catalog(PLACED).resolve(Framework.PYTORCH)
    built = build_deployment(
        replace(target(framework="pytorch", model_type="mlp"), runtime=runtime)
    )
    spec = built.to_dict()["spec"]["template"]["spec"]
    term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == "zone"
    assert "affinity" not in pod({})
