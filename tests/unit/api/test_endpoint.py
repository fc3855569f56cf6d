"""The AIEndpoint resource: its models, its generated CRD, and who writes its status."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aijob_api.crd import build_crd, render_crd
from aijob_api.crd_kinds import ENDPOINT_CRD, ENDPOINT_PRINTER_COLUMNS
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_scaling import AutoscalingMode
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.endpoint_status import (
    ENDPOINT_GATEWAY_STATUS_FIELDS,
    ENDPOINT_OPERATOR_STATUS_FIELDS,
    ENDPOINT_STATUS_OWNERS,
    AIEndpointStatus,
)
from aijob_api.priority import Priority
from aijob_api.spec import ModelSource, ResourceSpec
from aijob_api.status import StatusOwner
from pydantic import ValidationError

REPO = Path(__file__).resolve().parents[3]
CHECKED_IN = [
    REPO / "crds" / "aijob.dev_aiendpoints.yaml",
    REPO / "helm" / "aijob" / "crds" / "aijob.dev_aiendpoints.yaml",
]
FROM_TRAINING = {"model": {"source": {"trainingJob": "iris-forest"}}}


def spec(**fields: Any) -> AIEndpointSpec:
    return AIEndpointSpec.model_validate({**FROM_TRAINING, **fields})


def _version() -> dict[str, Any]:
    version: dict[str, Any] = build_crd(ENDPOINT_CRD)["spec"]["versions"][0]
    return version


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = _version()["schema"]["openAPIV3Schema"]
    return schema


def _walk(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, child in schema.get("properties", {}).items():
        yield f"{path}.{name}", child
        yield from _walk(child, f"{path}.{name}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_defaults() -> None:
    endpoint = spec()
    assert (endpoint.replicas, endpoint.min_replicas, endpoint.max_replicas) == (1, 1, 10)
    assert endpoint.priority is Priority.NORMAL
    assert endpoint.resources == ResourceSpec()
    assert (endpoint.batching.max_batch_size, endpoint.batching.max_wait_milliseconds) == (32, 5)
    assert (endpoint.concurrency, endpoint.request_timeout_seconds) == (16, 30)
    scaling = endpoint.autoscaling
    assert scaling.mode is AutoscalingMode.BUILTIN
    assert (scaling.target_utilization_percent, scaling.scale_down_delay_seconds) == (70, 300)


def test_autoscaling_is_defaulted_by_the_api_server_too() -> None:
    autoscaling = _schema()["properties"]["spec"]["properties"]["autoscaling"]
    assert autoscaling["default"] == {}
    fields = autoscaling["properties"]
    assert (fields["mode"]["default"], fields["mode"]["enum"]) == (
        "builtin",
        ["builtin", "external"],
    )
    assert fields["targetUtilizationPercent"]["default"] == 70
    assert fields["scaleDownDelaySeconds"]["default"] == 300


def test_the_model_source_is_the_aijobs_own_type() -> None:
    assert isinstance(spec().model.source, ModelSource)
    assert AIEndpointSpec.model_fields["resources"].annotation is ResourceSpec


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"minReplicas": 3, "maxReplicas": 2, "replicas": 2}, "minReplicas"),
        ({"replicas": 5, "maxReplicas": 4}, "replicas"),
        ({"replicas": 1, "minReplicas": 2}, "replicas"),
        ({"model": {"source": {"uri": "file:///m"}}}, "model.type"),
        ({"model": {"source": {"uri": "file:///m", "trainingJob": "a"}}}, "model.source"),
        ({"model": {"source": {"trainingJob": "a"}}, "replicas": 0}, "replicas"),
        ({"concurrency": 0}, "concurrency"),
        ({"batching": {"maxBatchSize": 0}}, "maxBatchSize"),
        ({"requestTimeoutSeconds": 0}, "requestTimeoutSeconds"),
        ({"taskType": "Text Classification"}, "taskType"),
        ({"resources": {"memory": "lots"}}, "memory"),
        ({"replica": 2}, "replica"),
        ({"autoscaling": {"mode": "hpa"}}, "autoscaling.mode"),
        ({"autoscaling": {"targetUtilizationPercent": 0}}, "targetUtilizationPercent"),
        ({"autoscaling": {"targetUtilizationPercent": 101}}, "targetUtilizationPercent"),
        ({"autoscaling": {"scaleDownDelaySeconds": -1}}, "scaleDownDelaySeconds"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        spec(**fields)


def test_a_uri_model_with_its_type_is_accepted() -> None:
    endpoint = spec(model={"source": {"uri": "file:///models/iris"}, "type": "random_forest"})
    assert endpoint.model.type == "random_forest"


def test_the_resource_round_trips() -> None:
    manifest = {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIEndpoint",
        "metadata": {"name": "iris", "namespace": "team-a"},
        "spec": {**FROM_TRAINING, "replicas": 2, "maxReplicas": 4},
    }
    endpoint = AIEndpoint.model_validate(manifest)
    assert endpoint.spec.replicas == 2
    assert AIEndpoint.model_validate(endpoint.to_manifest()) == endpoint


def test_the_operator_and_the_gateway_share_the_status_without_overlap() -> None:
    operator, gateway = set(ENDPOINT_OPERATOR_STATUS_FIELDS), set(ENDPOINT_GATEWAY_STATUS_FIELDS)
    assert not operator & gateway
    assert operator | gateway == set(AIEndpointStatus.model_fields)
    assert gateway == {"in_flight", "requests_per_second", "load_updated_at", "gateway_load"}
    assert "autoscaling" in operator


@pytest.mark.parametrize("path", CHECKED_IN, ids=lambda path: str(path.relative_to(REPO)))
def test_checked_in_crd_is_generated(path: Path) -> None:
    assert path.read_text() == render_crd(ENDPOINT_CRD), "run `make generate`"


def test_names_and_subresources() -> None:
    crd = build_crd(ENDPOINT_CRD)
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "AIEndpoint",
        "aiendpoints",
        ["aie"],
    )
    assert crd["spec"]["scope"] == "Namespaced"
    # Not in the category `aijob`: it would make `kubectl delete aijob NAME` ambiguous.
    assert names["categories"] == ["all"]
    assert build_crd()["spec"]["names"]["categories"] == ["all", "aijob"]
    assert _version()["subresources"] == {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        },
    }
    assert yaml.safe_load(render_crd(ENDPOINT_CRD)) == crd


def test_every_spec_field_is_described_for_kubectl_explain() -> None:
    spec_schema = _schema()["properties"]["spec"]
    missing = [path for path, node in _walk(spec_schema, "spec") if not node.get("description")]
    assert missing == []
    assert {_camel(name) for name in AIEndpointSpec.model_fields} == set(spec_schema["properties"])


def test_scale_paths_point_into_the_schema() -> None:
    properties = _schema()["properties"]
    assert properties["spec"]["properties"]["replicas"]["type"] == "integer"
    assert properties["status"]["properties"]["replicas"]["type"] == "integer"
    assert properties["status"]["properties"]["selector"]["type"] == "string"


def test_printer_columns_point_into_the_schema() -> None:
    schema = _schema()
    for column in ENDPOINT_PRINTER_COLUMNS:
        node = schema
        for part in column["jsonPath"].strip(".").split("."):
            if part == "metadata":
                node = {"properties": {"creationTimestamp": {}}}
                continue
            assert part in node.get("properties", {}), column
            node = node["properties"][part]
    names = [column["name"] for column in ENDPOINT_PRINTER_COLUMNS if "priority" not in column]
    assert names == ["Model", "Framework", "Ready", "Desired", "Phase", "In-Flight", "Age"]


def test_cel_rules_name_the_fields_they_guard() -> None:
    rules = _schema()["properties"]["spec"]["x-kubernetes-validations"]
    assert {rule["fieldPath"] for rule in rules} == {".minReplicas", ".replicas"}
    model_rules = _schema()["properties"]["spec"]["properties"]["model"]["x-kubernetes-validations"]
    assert [rule["fieldPath"] for rule in model_rules] == [".type"]


DOC = (REPO / "docs" / "endpoints.md").read_text()


def _documented(section: str) -> dict[str, str]:
    """The first table of a section of docs/endpoints.md: each field and its second column."""
    text = DOC.split(f"## {section}", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for fields, second in re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", text, re.MULTILINE):
        for field in re.findall(r"`([\w.]+)`", fields):
            rows[field] = second.split()[0]
    return rows


@pytest.mark.parametrize(("field", "owner"), sorted(ENDPOINT_STATUS_OWNERS.items()))
def test_docs_name_the_declared_writer(field: str, owner: StatusOwner) -> None:
    assert _documented("Status").get(_camel(field)) == owner.value


@pytest.mark.parametrize("field", [_camel(name) for name in AIEndpointSpec.model_fields])
def test_docs_describe_every_spec_field(field: str) -> None:
    documented = {name.split(".")[0] for name in _documented("Spec")}
    assert field in documented
