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


def test_each_tenant_has_a_policy_of_its_own_limits_on_create(tmp_path: Path) -> None:
    policies = of_kind(render(tmp_path, TENANT_VALUES), "ValidatingAdmissionPolicy")
    assert set(policies) == {"aijob-tenant-team-a", "aijob-tenant-team-b", "aijob-tenants-default"}
    spec = policies["aijob-tenant-team-a"]["spec"]
    assert spec["failurePolicy"] == "Fail"
    assert "paramKind" not in spec, "the limits are the policy's own (no parameter informer)"
    (rule,) = spec["matchConstraints"]["resourceRules"]
    assert rule["operations"] == ["CREATE"], "existing objects must stay deletable"
    assert set(rule["resources"]) == {"aijobs", "aiendpoints"}
    priority, gpus = spec["validations"]
    assert priority["expression"] == "variables.priority in ['normal', 'low']"
    assert "'spec.priority: '" in priority["messageExpression"]
    assert "(tenant limit allowedPriorities: normal,low)" in priority["messageExpression"]
    assert gpus["expression"] == "variables.gpus <= 2"
    assert "'spec.resources.gpu: '" in gpus["messageExpression"]
    assert "(tenant limit maxGpusPerJob: 2)" in gpus["messageExpression"]
    assert all(validation["reason"] == "Invalid" for validation in spec["validations"])
    team_b = policies["aijob-tenant-team-b"]["spec"]["validations"]
    assert [v["expression"] for v in team_b] == [
        "variables.priority in ['low']",
        "variables.gpus <= 1",
    ], "the defaults fill the keys a tenant leaves out"


def test_each_tenant_policy_is_bound_to_its_namespace(tmp_path: Path) -> None:
    bindings = of_kind(render(tmp_path, TENANT_VALUES), "ValidatingAdmissionPolicyBinding")
    binding = bindings["aijob-tenant-team-a"]["spec"]
    assert binding["policyName"] == "aijob-tenant-team-a"
    assert binding["validationActions"] == ["Deny"]
    assert "paramRef" not in binding
    assert binding["matchResources"]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "team-a"}
    }


def test_defaults_bind_every_namespace_not_listed(tmp_path: Path) -> None:
    documents = render(tmp_path, TENANT_VALUES)
    default = of_kind(documents, "ValidatingAdmissionPolicyBinding")["aijob-tenants-default"]
    assert default["spec"]["policyName"] == "aijob-tenants-default"
    (expression,) = default["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
    assert expression["operator"] == "NotIn"
    assert set(expression["values"]) == {"team-a", "team-b", RELEASE_NAMESPACE}


def test_only_per_job_limits_make_a_policy(tmp_path: Path) -> None:
    values = {"tenants": [{"namespace": "team-a"}], "tenantDefaults": {"maxGpus": 2}}
    documents = render(tmp_path, values)
    assert not of_kind(documents, "ValidatingAdmissionPolicy")
    assert not of_kind(documents, "ValidatingAdmissionPolicyBinding")
    quota = of_kind(documents, "ResourceQuota")["team-a/aijob-gpus"]
    assert quota["spec"]["hard"] == {f"requests.{GPU_RESOURCE}": "2"}
    values = {"tenants": [{"namespace": "team-a", "maxGpusPerJob": 1}]}
    (policy,) = of_kind(render(tmp_path, values), "ValidatingAdmissionPolicy").values()
    assert [v["expression"] for v in policy["spec"]["validations"]] == ["variables.gpus <= 1"]


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
