"""Least privilege, proven on the rendered chart: the operator's and the gateway's grants are
exactly the tables kept next to their code (`aijob_operator.access`, `aijob_gateway.access`),
both ways; and no per-job identity can ever be named like one of the chart's accounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
import yaml
from aijob_api.routing import Framework
from aijob_gateway.access import GATEWAY_ACCESS
from aijob_kube.access import Access, Scope
from aijob_operator.access import OPERATOR_ACCESS
from aijob_operator.builders.meta import IDENTITY_SUFFIX
from aijob_operator.builders.rbac import build_role

from tests.support.helm import CHART, LOCAL_VALUES, helm_binary, run_helm
from tests.unit.operator.factories import aijob

pytestmark = pytest.mark.skipif(
    helm_binary() is None, reason="helm is not built (make binaries builds it with the cluster)"
)

Grant = tuple[str, str, str]
"""(API group, resource, verb)."""
RELEASE = "aijob"
NAMESPACE = "aijob-system"


def render(*extra: str, release: str = RELEASE) -> list[dict[str, Any]]:
    """`helm template` of the chart; the documents, parsed."""
    result = run_helm("template", release, str(CHART), "-n", NAMESPACE, *extra)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def one(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def granted(role: dict[str, Any], resource_names: list[str] | None = None) -> set[Grant]:
    """Every (group, resource, verb) a Role or ClusterRole grants; its rules must name
    `resource_names` exactly (None: no rule may be limited to names)."""
    grants: set[Grant] = set()
    for rule in role["rules"]:
        assert rule.get("resourceNames") == resource_names, rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.update((group, resource, verb) for verb in rule["verbs"])
    return grants


def used(table: Iterable[Access], scope: Scope, values: frozenset[str] = frozenset()) -> set[Grant]:
    """Every (group, resource, verb) of a table's rows of one scope (optional rows when their
    chart value is in `values`)."""
    return {
        (row.group, row.resource, verb)
        for row in table
        if row.scope == scope
        and (row.when is None or row.when in values)
        and (row.unless is None or row.unless not in values)
        for verb in row.verbs
    }


def test_the_operator_is_granted_exactly_what_its_code_uses() -> None:
    documents = render()
    role = one(documents, "ClusterRole", "aijob-operator")
    # The tenants' storage Secrets, by their one name, in a ClusterRole of their own.
    storage = one(documents, "ClusterRole", "aijob-operator-storage")
    grants = granted(role) | granted(storage, ["aijob-storage"])
    needs = used(OPERATOR_ACCESS, "cluster", frozenset({"operator.statusChannel.enabled"}))
    assert not needs - grants, f"used without a grant: {sorted(needs - grants)}"
    assert not grants - needs, f"granted, never used: {sorted(grants - needs)}"
    assert {row.scope for row in OPERATOR_ACCESS} == {"cluster", "release"}
    binding = one(documents, "ClusterRoleBinding", "aijob-operator")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "aijob-operator", "namespace": NAMESPACE}
    ]


@pytest.mark.parametrize("channel", [True, False])
def test_on_the_status_channel_the_operator_reviews_tokens_and_makes_no_identities(
    channel: bool,
) -> None:
    documents = render("--set", f"operator.statusChannel.enabled={str(channel).lower()}")
    grants = granted(one(documents, "ClusterRole", "aijob-operator"))
    grants |= granted(one(documents, "ClusterRole", "aijob-operator-storage"), ["aijob-storage"])
    values = frozenset({"operator.statusChannel.enabled"} if channel else ())
    needs = used(OPERATOR_ACCESS, "cluster", values)
    assert not needs - grants, f"used without a grant: {sorted(needs - grants)}"
    assert not grants - needs, f"granted, never used: {sorted(grants - needs)}"
    assert (("authentication.k8s.io", "tokenreviews", "create") in grants) is channel
    identity = {("", "serviceaccounts", "create"), ("rbac.authorization.k8s.io", "roles", "create")}
    assert (identity <= grants) is not channel


@pytest.mark.parametrize("election", [True, False])
def test_the_operators_election_is_granted_exactly_its_lease(election: bool) -> None:
    documents = render("--set", f"operator.leaderElection.enabled={str(election).lower()}",
                       "--set", f"operator.replicas={2 if election else 1}")  # fmt: skip
    roles = [d for d in documents if d["metadata"]["name"] == "aijob-operator-election"]
    needs = used(OPERATOR_ACCESS, "release", frozenset({"operator.leaderElection.enabled"}))
    if not election:
        assert roles == []
        return
    role = one(documents, "Role", "aijob-operator-election")
    by_name = {
        ("coordination.k8s.io", "leases", verb)
        for rule in role["rules"]
        if rule.get("resourceNames") == ["aijob-operator"]
        for verb in rule["verbs"]
    }
    # A create names no object: the one rule without a name, and only for create.
    unnamed = {
        ("coordination.k8s.io", "leases", verb)
        for rule in role["rules"]
        if "resourceNames" not in rule
        for verb in rule["verbs"]
    }
    assert unnamed == {("coordination.k8s.io", "leases", "create")}
    assert by_name | unnamed == needs
    binding = one(documents, "RoleBinding", "aijob-operator-election")
    assert binding["subjects"][0]["name"] == "aijob-operator"
    operator = one(documents, "Deployment", "aijob-operator")
    env = {e["name"]: e for e in operator["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AIJOB_OPERATOR_LEASE_NAME"]["value"] == "aijob-operator"
    assert env["AIJOB_OPERATOR_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_two_operator_replicas_by_default_with_a_budget_and_spread() -> None:
    documents = render()
    operator = one(documents, "Deployment", "aijob-operator")
    assert operator["spec"]["replicas"] == 2
    assert operator["spec"]["strategy"]["type"] == "RollingUpdate"
    affinity = operator["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    (term,) = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    budget = one(documents, "PodDisruptionBudget", "aijob-operator")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"] == operator["spec"]["selector"]
    single = render("--set", "operator.replicas=1")
    assert not [d for d in single if d["kind"] == "PodDisruptionBudget"]
    refused = run_helm(
        "template", RELEASE, str(CHART), "-n", NAMESPACE,
        "--set", "operator.leaderElection.enabled=false",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "operator.replicas > 1 needs operator.leaderElection.enabled" in refused.stderr


def test_the_operator_holds_what_it_grants_each_job() -> None:
    # RBAC lets it create a Role (and bind it) only with verbs it holds itself.
    # Only without the status channel (with it there is no per-job Role).
    without_channel = render("--set", "operator.statusChannel.enabled=false")
    operator = granted(one(without_channel, "ClusterRole", "aijob-operator"))
    per_job = build_role(aijob("train"), Framework.SKLEARN).to_dict()
    for rule in per_job["rules"]:
        for resource in rule["resources"]:
            for verb in rule["verbs"]:
                assert (rule["apiGroups"][0], resource, verb) in operator


@pytest.mark.parametrize("mint_in_pod", [False, True])
def test_the_gateway_is_granted_exactly_what_its_code_uses(mint_in_pod: bool) -> None:
    documents = render("--set", f"apiKeys.mintInPod={str(mint_in_pod).lower()}")
    values = frozenset({"apiKeys.mintInPod"} if mint_in_pod else ())
    roles: list[tuple[set[Grant], Scope]] = [
        (granted(one(documents, "ClusterRole", "aijob-gateway")), "cluster"),
        (
            granted(one(documents, "ClusterRole", "aijob-gateway-logs"))
            # The tenants' storage Secrets, by their one name, in a ClusterRole of their own.
            | granted(one(documents, "ClusterRole", "aijob-gateway-storage"), ["aijob-storage"]),
            "tenants",
        ),
        (granted(one(documents, "Role", "aijob-gateway-keys"), ["aijob-api-keys"]), "release"),
    ]
    for grants, scope in roles:
        needs = used(GATEWAY_ACCESS, scope, values)
        assert not needs - grants, f"{scope}: used without a grant: {sorted(needs - grants)}"
        assert not grants - needs, f"{scope}: granted, never used: {sorted(grants - needs)}"
    keys = one(documents, "Role", "aijob-gateway-keys")
    assert keys["metadata"].get("namespace", NAMESPACE) == NAMESPACE
    patch = ("", "secrets", "patch") in roles[2][0]
    assert patch is mint_in_pod


def test_local_values_let_the_demo_mint_keys_in_the_gateway_pod() -> None:
    keys = one(render("-f", str(LOCAL_VALUES)), "Role", "aijob-gateway-keys")
    assert ("", "secrets", "patch") in granted(keys, ["aijob-api-keys"])


@pytest.mark.parametrize("role", ["logs", "storage"])
def test_pod_logs_and_storage_secrets_are_readable_only_where_tenants_run(role: str) -> None:
    name = f"aijob-gateway-{role}"
    everywhere = render()
    binding = one(everywhere, "ClusterRoleBinding", name)
    assert binding["roleRef"]["name"] == name
    scoped = render("--set", "operator.watchNamespaces={team-a,team-b}")
    assert not [
        d for d in scoped if d["metadata"]["name"] == name and d["kind"] == "ClusterRoleBinding"
    ]
    bindings = [d for d in scoped if d["kind"] == "RoleBinding" and d["metadata"]["name"] == name]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    for b in bindings:
        assert b["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": name,
        }
        assert b["subjects"][0]["name"] == "aijob-gateway"


def test_the_release_namespace_cannot_be_watched() -> None:
    result = run_helm(
        "template", RELEASE, str(CHART), "-n", NAMESPACE,
        "--set", f"operator.watchNamespaces={{team-a,{NAMESPACE}}}",
    )  # fmt: skip
    assert result.returncode != 0
    assert f"operator.watchNamespaces: {NAMESPACE} is the release's own namespace" in result.stderr


def test_the_operator_knows_its_own_namespace_and_the_allow_lists() -> None:
    documents = render("--set", "workers.podMetadata.annotationPrefixes={example.com/}")
    operator = one(documents, "Deployment", "aijob-operator")
    env = {e["name"]: e for e in operator["spec"]["template"]["spec"]["containers"][0]["env"]}
    own = env["AIJOB_OPERATOR_OWN_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert own == "metadata.namespace"
    assert env["AIJOB_OPERATOR_POD_LABEL_PREFIXES"]["value"] == "[]"
    assert env["AIJOB_OPERATOR_POD_ANNOTATION_PREFIXES"]["value"] == '["example.com/"]'


@pytest.mark.parametrize("release", ["aijob", "team", "operator-aijob", "x-aijob-worker"])
def test_no_per_job_identity_can_be_named_like_a_chart_account(release: str) -> None:
    # A per-job name is <AIJob name><suffix>; a chart name is <fullname>-<component>, the
    # fullname being anything the release makes it. They can meet only if one's tail ends
    # the other: checked for every account, Role and binding the chart makes.
    fullname = release if "aijob" in release else f"{release}-aijob"
    documents = render("--set", "operator.watchNamespaces={team-a}", release=release)
    names = [
        d["metadata"]["name"]
        for d in documents
        if d["kind"] in ("ServiceAccount", "Role", "RoleBinding")
    ]
    assert len(names) >= 4
    for name in names:
        assert name.startswith(f"{fullname}-"), name
        component = name.removeprefix(fullname)
        assert not component.endswith(IDENTITY_SUFFIX), name
        assert not IDENTITY_SUFFIX.endswith(component), name
