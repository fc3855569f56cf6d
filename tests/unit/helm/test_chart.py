"""The Helm chart, rendered offline: lint and template clean, settings the programs
really read, values.schema.json refusing bad values with a message naming the field,
and the chart's CRD identical to the generated one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aijob_gateway.settings import GatewaySettings
from aijob_operator.__main__ import parse_args
from aijob_operator.config import OperatorConfig

from tests.support.cluster import REPO_ROOT
from tests.support.helm import CHART, LOCAL_VALUES, helm_binary, run_helm

needs_helm = pytest.mark.skipif(
    helm_binary() is None, reason="helm is not built (make binaries builds it with the cluster)"
)


def render(*extra: str) -> list[dict[str, Any]]:
    """`helm template` with the local values; the documents, parsed."""
    result = run_helm("template", "aijob", str(CHART), "-n", "aijob-system", *extra)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def container(documents: list[dict[str, Any]], deployment: str) -> dict[str, Any]:
    (found,) = [
        d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == deployment
    ]
    first: dict[str, Any] = found["spec"]["template"]["spec"]["containers"][0]
    return first


@needs_helm
@pytest.mark.parametrize("values", [[], ["-f", str(LOCAL_VALUES)]], ids=["default", "local"])
def test_lint_is_clean(values: list[str]) -> None:
    result = run_helm("lint", "--strict", str(CHART), *values)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_helm
def test_operator_gets_only_arguments_and_settings_it_reads() -> None:
    operator = container(render("-f", str(LOCAL_VALUES)), "aijob-operator")
    args = parse_args(operator.get("args", []))
    assert args.liveness
    assert args.namespace == ["demo", "default"]
    for env in operator["env"]:
        field = env["name"].removeprefix("AIJOB_OPERATOR_").lower()
        assert field in OperatorConfig.model_fields, f"the operator has no setting {env['name']}"
    values = {env["name"]: env.get("value") for env in operator["env"]}
    tolerations = json.loads(values["AIJOB_OPERATOR_CPU_TOLERATIONS"])
    config = OperatorConfig.model_validate({"cpu_tolerations": tolerations})
    assert config.cpu_tolerations[0].key == "aijob.dev/real-node"


@needs_helm
def test_gateway_gets_only_settings_it_reads() -> None:
    gateway = container(render(), "aijob-gateway")
    for env in gateway["env"]:
        field = env["name"].removeprefix("AIJOB_GATEWAY_").lower()
        assert field in GatewaySettings.model_fields, f"the gateway has no setting {env['name']}"


@needs_helm
def test_local_values_put_every_pod_on_the_real_node() -> None:
    documents = render("-f", str(LOCAL_VALUES))
    pods = [d["spec"]["template"]["spec"] for d in documents if d["kind"] == "Deployment"]
    pods += [d["spec"] for d in documents if d["kind"] == "Pod"]
    assert len(pods) == 3
    for pod in pods:
        assert pod["nodeSelector"] == {"aijob.dev/real-node": "true"}
        assert pod["tolerations"][0]["key"] == "aijob.dev/real-node"


@needs_helm
@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("operator.replicas=-1", "replicas"),
        ("image.pullPolicy=Sometimes", "pullPolicy"),
        ("gateway.port=70000", "port"),
        ("priorityClasses.high=urgent", "high"),
        ("operator.watchNamespaces={Team_A}", "watchNamespaces"),
        ("operator.colour=blue", "colour"),
    ],
)
def test_schema_rejects_bad_values_naming_the_field(setting: str, named: str) -> None:
    result = run_helm("template", "aijob", str(CHART), "--set", setting)
    assert result.returncode != 0, f"{setting} was accepted"
    assert "values don't meet the specifications of the schema" in result.stderr
    assert named in result.stderr


def test_chart_crd_is_the_generated_one() -> None:
    generated = REPO_ROOT / "crds" / "aijob.dev_aijobs.yaml"
    copy = CHART / "crds" / "aijob.dev_aijobs.yaml"
    assert copy.read_text() == generated.read_text(), "run make generate"


def test_dashboard_queries_only_exported_metrics() -> None:
    dashboard = json.loads((CHART / "dashboards" / "aijob.json").read_text())
    exported = exported_metric_names()
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        for name in metric_names_in(target["expr"])
    }
    assert queried, "the dashboard queries nothing"
    assert queried <= exported, f"not exported: {sorted(queried - exported)}"


def metric_names_in(expr: str) -> set[str]:
    """aijob_* names in a PromQL expression (histogram suffixes kept)."""
    import re

    return set(re.findall(r"\baijob_[a-z0-9_]+", expr))


def exported_metric_names() -> set[str]:
    """Every series name the operator, gateway and worker register (with histogram suffixes)."""
    import re

    names: set[str] = set()
    sources = [
        *Path(REPO_ROOT / "operator" / "src").rglob("metrics.py"),
        *Path(REPO_ROOT / "gateway" / "src").rglob("*.py"),
        *Path(REPO_ROOT / "worker-images" / "runtime" / "src").rglob("*.py"),
    ]
    pattern = re.compile(
        r"(Counter|Gauge|Histogram|Summary|GaugeMetricFamily)\(\s*\"(aijob_[a-z0-9_]+)\""
    )
    for source in sources:
        for kind, name in pattern.findall(source.read_text()):
            names.add(name)
            if kind == "Counter":
                names.add(f"{name}_total")
            if kind in {"Histogram", "Summary"}:
                names.update({f"{name}_bucket", f"{name}_sum", f"{name}_count"})
    return names
