"""The chart's tenant limits, rendered offline: the ValidatingAdmissionPolicy, its parameters
and bindings, the ResourceQuotas, defaults filled in, bad values refused naming the field.
(tests/integration/operator/test_tenant_limits.py installs the same objects for real.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aijob_api.constants import GPU_RESOURCE
from aijob_api.priority import PRIORITY_LEVELS, Priority, priority_class

from tests.support.helm import CHART, LOCAL_VALUES, helm_binary, run_helm

needs_helm = pytest.mark.skipif(
    helm_binary() is None, reason="helm is not built (make binaries builds it with the cluster)"
)
pytestmark = needs_helm

RELEASE_NAMESPACE = "aijob-system"
TENANT_VALUES: dict[str, Any] = {
    "tenants": [
        {
            "namespace": "team-a",
            "allowedPriorities": ["normal", "low"],
            "maxGpusPerJob": 2,
            "maxGpus": 8,
            "maxConcurrentPods": 10,
        },
        {"namespace": "team-b", "maxGpus": 4},
    ],
    "tenantDefaults": {"allowedPriorities": ["low"], "maxGpusPerJob": 1},
}


def render(tmp_path: Path, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`helm template` with these values (none: the chart's defaults); the documents."""
    extra: list[str] = []
    if values is not None:
        path = tmp_path / "values.yaml"
        path.write_text(yaml.safe_dump(values))
        extra = ["-f", str(path)]
    result = run_helm("template", "aijob", str(CHART), "-n", RELEASE_NAMESPACE, *extra)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """The documents of one kind by namespace/name (name alone when cluster-scoped)."""
    found = {}
    for doc in documents:
        if doc["kind"] == kind:
            metadata = doc["metadata"]
            key = "/".join(filter(None, (metadata.get("namespace"), metadata["name"])))
            found[key] = doc
    return found


@pytest.mark.parametrize("local", [False, True], ids=["default", "local"])
def test_no_tenants_renders_no_limits(tmp_path: Path, local: bool) -> None:
    extra = ["-f", str(LOCAL_VALUES)] if local else []
    result = run_helm("template", "aijob", str(CHART), "-n", RELEASE_NAMESPACE, *extra)
    assert result.returncode == 0, result.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc}
    assert not kinds & {
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ResourceQuota",
    }


def test_one_policy_checks_priority_and_gpus_per_job_on_create(tmp_path: Path) -> None:
    (policy,) = of_kind(render(tmp_path, TENANT_VALUES), "ValidatingAdmissionPolicy").values()
    spec = policy["spec"]
    assert spec["failurePolicy"] == "Fail"
    assert spec["paramKind"] == {"apiVersion": "v1", "kind": "ConfigMap"}
    (rule,) = spec["matchConstraints"]["resourceRules"]
    assert rule["operations"] == ["CREATE"], "existing objects must stay deletable"
    assert set(rule["resources"]) == {"aijobs", "aiendpoints"}
    messages = [validation["messageExpression"] for validation in spec["validations"]]
    assert any("'spec.priority: '" in message for message in messages)
    assert any("'spec.resources.gpu: '" in message for message in messages)
    assert all(validation["reason"] == "Invalid" for validation in spec["validations"])


def test_each_tenant_has_its_parameters_and_binding(tmp_path: Path) -> None:
    documents = render(tmp_path, TENANT_VALUES)
    config_maps = of_kind(documents, "ConfigMap")
    bindings = of_kind(documents, "ValidatingAdmissionPolicyBinding")
    team_a = config_maps[f"{RELEASE_NAMESPACE}/aijob-tenant-team-a"]["data"]
    assert team_a == {
        "namespace": "team-a",
        "allowedPriorities": "normal,low",
        "maxGpusPerJob": "2",
    }
    team_b = config_maps[f"{RELEASE_NAMESPACE}/aijob-tenant-team-b"]["data"]
    assert team_b == {"namespace": "team-b", "allowedPriorities": "low", "maxGpusPerJob": "1"}, (
        "the defaults fill the keys a tenant leaves out"
    )
    binding = bindings["aijob-tenant-team-a"]["spec"]
    assert binding["policyName"] == "aijob-tenant-limits"
    assert binding["validationActions"] == ["Deny"]
    assert binding["paramRef"] == {
        "name": "aijob-tenant-team-a",
        "namespace": RELEASE_NAMESPACE,
        "parameterNotFoundAction": "Deny",
    }
    assert binding["matchResources"]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "team-a"}
    }


def test_defaults_bind_every_namespace_not_listed(tmp_path: Path) -> None:
    documents = render(tmp_path, TENANT_VALUES)
    default = of_kind(documents, "ValidatingAdmissionPolicyBinding")["aijob-tenants-default"]
    (expression,) = default["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
    assert expression["operator"] == "NotIn"
    assert set(expression["values"]) == {"team-a", "team-b", RELEASE_NAMESPACE}
    params = of_kind(documents, "ConfigMap")[f"{RELEASE_NAMESPACE}/aijob-tenants-default"]
    assert params["data"] == {"allowedPriorities": "low", "maxGpusPerJob": "1"}


def test_defaults_of_totals_alone_bind_no_other_namespace(tmp_path: Path) -> None:
    values = {"tenants": [{"namespace": "team-a"}], "tenantDefaults": {"maxGpus": 2}}
    documents = render(tmp_path, values)
    assert set(of_kind(documents, "ValidatingAdmissionPolicyBinding")) == {"aijob-tenant-team-a"}
    quota = of_kind(documents, "ResourceQuota")["team-a/aijob-gpus"]
    assert quota["spec"]["hard"] == {f"requests.{GPU_RESOURCE}": "2"}


def test_quotas_hold_the_totals_and_forbid_the_other_priorities(tmp_path: Path) -> None:
    quotas = of_kind(render(tmp_path, TENANT_VALUES), "ResourceQuota")
    assert set(quotas) == {
        "team-a/aijob-gpus",
        "team-a/aijob-concurrent-pods",
        "team-a/aijob-priority-high-forbidden",
        "team-b/aijob-gpus",
        "team-b/aijob-priority-high-forbidden",
        "team-b/aijob-priority-normal-forbidden",
    }
    assert quotas["team-a/aijob-gpus"]["spec"] == {"hard": {f"requests.{GPU_RESOURCE}": "8"}}
    pods = quotas["team-a/aijob-concurrent-pods"]["spec"]
    assert pods["hard"] == {"pods": "10"}
    (scope,) = pods["scopeSelector"]["matchExpressions"]
    assert scope["scopeName"] == "PriorityClass"
    assert scope["operator"] == "In"
    assert set(scope["values"]) == {level.class_name for level in PRIORITY_LEVELS}
    forbidden = quotas["team-b/aijob-priority-normal-forbidden"]["spec"]
    assert forbidden["hard"] == {"pods": "0"}
    assert forbidden["scopeSelector"]["matchExpressions"] == [
        {
            "scopeName": "PriorityClass",
            "operator": "In",
            "values": [priority_class(Priority.NORMAL)],
        }
    ]


def test_schema_lists_the_apis_priorities() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    allowed = schema["definitions"]["tenantLimits"]["allowedPriorities"]["items"]["enum"]
    assert allowed == [priority.value for priority in Priority]


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("tenants[0].namespace=Team_A", "namespace"),
        ("tenants[0].namespace=a,tenants[0].allowedPriorities={urgent}", "allowedPriorities"),
        ("tenants[0].namespace=a,tenants[0].maxGpus=-1", "maxGpus"),
        ("tenants[0].namespace=a,tenants[0].maxGpusPerJob=65", "maxGpusPerJob"),
        ("tenants[0].namespace=a,tenants[0].gpus=2", "gpus"),
        ("tenants[0].maxGpus=2", "namespace"),
        ("tenantDefaults.maxConcurrentPods=many", "maxConcurrentPods"),
    ],
)
def test_schema_refuses_bad_tenant_values_naming_the_field(setting: str, named: str) -> None:
    result = run_helm("template", "aijob", str(CHART), "--set", setting)
    assert result.returncode != 0, f"{setting} was accepted"
    assert "values don't meet the specifications of the schema" in result.stderr
    assert named in result.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "tenants[0].namespace=team-a,tenants[1].namespace=team-a",
            "tenants[1].namespace: team-a is listed twice",
        ),
        (
            f"tenants[0].namespace={RELEASE_NAMESPACE}",
            f"tenants[0].namespace: {RELEASE_NAMESPACE} is the release's own namespace",
        ),
    ],
)
def test_chart_refuses_tenants_it_cannot_limit(setting: str, message: str) -> None:
    result = run_helm("template", "aijob", str(CHART), "-n", RELEASE_NAMESPACE, "--set", setting)
    assert result.returncode != 0, f"{setting} was accepted"
    assert message in result.stderr
