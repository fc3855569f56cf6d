"""The CRD generator: one test per rewrite rule, and the checked-in CRD is the generated one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aijob_api.crd import SchemaError, build_crd, main, render_crd, structural_schema
from aijob_api.crd_kinds import PRINTER_COLUMNS
from aijob_api.models import AIJobSpec, AIJobStatus

REPO = Path(__file__).resolve().parents[3]
CHECKED_IN = [
    REPO / "crds" / "aijob.dev_aijobs.yaml",
    REPO / "helm" / "aijob" / "crds" / "aijob.dev_aijobs.yaml",
]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(
            {
                "$defs": {"X": {"type": "string", "title": "X"}},
                "properties": {"a": {"$ref": "#/$defs/X"}},
            },
            {"type": "object", "properties": {"a": {"type": "string"}}},
            id="references are inlined, titles dropped",
        ),
        pytest.param(
            {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            {"type": "integer"},
            id="optional becomes the plain type without a null default",
        ),
        pytest.param(
            {"type": "object", "additionalProperties": True},
            {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            id="free-form objects keep unknown fields",
        ),
        pytest.param(
            {"type": "object", "additionalProperties": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": "string"}},
            id="string maps stay maps",
        ),
        pytest.param({}, {"x-kubernetes-preserve-unknown-fields": True}, id="Any gets no type"),
        pytest.param(
            {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            {"x-kubernetes-int-or-string": True},
            id="int or string",
        ),
        pytest.param(
            {"enum": ["a", "b"]}, {"enum": ["a", "b"], "type": "string"}, id="enums are strings"
        ),
        pytest.param(
            {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            {
                "type": "number",
                "minimum": 0,
                "exclusiveMinimum": True,
                "maximum": 1,
                "exclusiveMaximum": True,
            },
            id="exclusive bounds in OpenAPI v3 form",
        ),
        pytest.param(
            {
                "type": "object",
                "properties": {},
                "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
            },
            {
                "type": "object",
                "properties": {},
                "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
            },
            id="value-only oneOf is kept",
        ),
        pytest.param(
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
            {"type": "array", "items": {"type": "string"}},
            id="array items are rewritten too",
        ),
    ],
)
def test_structural_rules(given: dict[str, Any], expected: dict[str, Any]) -> None:
    assert structural_schema(given) == expected


def test_unions_of_objects_are_refused() -> None:
    with pytest.raises(SchemaError, match="union"):
        structural_schema({"anyOf": [{"type": "object"}, {"type": "array"}]})


@pytest.mark.parametrize("path", CHECKED_IN, ids=lambda path: str(path.relative_to(REPO)))
def test_checked_in_crd_is_generated(path: Path) -> None:
    assert path.read_text() == render_crd(), "run `make generate`"


def test_check_mode_reports_stale_files(tmp_path: Path) -> None:
    stale = tmp_path / "aijob.dev_aijobs.yaml"
    stale.write_text("old")
    assert main(["--check", str(stale)]) == 1
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0
    assert stale.read_text() == render_crd()


def test_a_file_named_after_no_resource_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "crd.yaml")]) == 2
    assert "aijob.dev_aiendpoints.yaml" in capsys.readouterr().err
    assert not (tmp_path / "crd.yaml").exists()


def _walk(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, child in schema.get("properties", {}).items():
        yield f"{path}.{name}", child
        yield from _walk(child, f"{path}.{name}")
    if "items" in schema:
        yield from _walk(schema["items"], f"{path}[]")


def _version_schema() -> dict[str, Any]:
    schema: dict[str, Any] = build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def test_every_spec_field_is_described_for_kubectl_explain() -> None:
    spec = _version_schema()["properties"]["spec"]
    missing = [path for path, node in _walk(spec, "spec") if not node.get("description")]
    assert missing == []


def test_schema_is_structural() -> None:
    def check(node: Any, path: str) -> None:
        if isinstance(node, dict):
            assert not {"$ref", "anyOf", "title"} & node.keys(), path
            if (
                not path.endswith("properties")
                and {
                    "properties",
                    "items",
                    "additionalProperties",
                }
                & node.keys()
            ):
                assert node.get("type") in ("object", "array"), path
            for key, value in node.items():
                check(value, f"{path}.{key}")
        elif isinstance(node, list):
            for number, value in enumerate(node):
                check(value, f"{path}[{number}]")

    check(_version_schema(), "")


def test_status_declares_every_field_the_operator_and_worker_write() -> None:
    status = _version_schema()["properties"]["status"]["properties"]
    for name, field in AIJobStatus.model_fields.items():
        assert (field.alias or name) in status or _camel(name) in status, name


def test_spec_declares_every_model_field() -> None:
    spec = _version_schema()["properties"]["spec"]["properties"]
    assert {_camel(name) for name in AIJobSpec.model_fields} == set(spec)


def test_printer_columns_point_into_the_schema() -> None:
    schema = _version_schema()
    for column in PRINTER_COLUMNS:
        node = schema
        for part in column["jsonPath"].strip(".").split("."):
            if part == "metadata":
                node = {"properties": {"creationTimestamp": {}}}
                continue
            assert part in node.get("properties", {}), column
            node = node["properties"][part]
    names = [column["name"] for column in PRINTER_COLUMNS if "priority" not in column]
    assert names == [
        "Task",
        "Framework",
        "Phase",
        "Progress",
        "GPUs",
        "Priority",
        "Attempts",
        "Age",
    ]


def test_names_and_subresources() -> None:
    crd = build_crd()
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == ("AIJob", "aijobs", ["aij"])
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1alpha1"
    assert version["subresources"] == {"status": {}}
    assert crd["spec"]["scope"] == "Namespaced"
    assert yaml.safe_load(render_crd()) == crd


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
