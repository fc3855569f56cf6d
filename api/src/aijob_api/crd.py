"""Generate aijob's CustomResourceDefinitions (AIJob, AIEndpoint) from the pydantic models.

pydantic emits JSON Schema 2020-12; a CRD needs a structural OpenAPI v3 schema.
`structural_schema` rewrites one into the other (inline references, plain types
for optionals, free-form objects marked to keep unknown fields, OpenAPI's
exclusive bounds, no titles); `build_crd` wraps it with a resource's names, printer
columns and subresources (`aijob_api.crd_kinds`). `main` writes the files that
`make generate` keeps current and a test compares against, each CRD to the file named
after it (`aijob.dev_aijobs.yaml`, `aijob.dev_aiendpoints.yaml`).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel

from aijob_api.constants import GROUP, VERSION
from aijob_api.crd_kinds import AIJOB_CRD, CRD_KINDS, CrdKind

JsonSchema = dict[str, Any]

_DROPPED_KEYS: Final = frozenset({"title", "$defs", "definitions", "const", "examples"})


class SchemaError(ValueError):
    """The models produced a schema the generator cannot make structural."""


def _resolve_ref(ref: str, defs: Mapping[str, JsonSchema]) -> JsonSchema:
    prefix = "#/$defs/"
    if not ref.startswith(prefix) or ref[len(prefix) :] not in defs:
        raise SchemaError(f"unresolvable reference {ref!r}")
    return copy.deepcopy(defs[ref[len(prefix) :]])


def _without_null(options: list[JsonSchema]) -> list[JsonSchema]:
    return [option for option in options if option.get("type") != "null"]


def _is_value_validation(options: list[JsonSchema]) -> bool:
    """Whether a oneOf/anyOf only constrains values (e.g. required), as structural schemas allow."""
    return all(set(option) <= {"required"} for option in options)


def structural_schema(
    schema: JsonSchema, defs: Mapping[str, JsonSchema] | None = None
) -> JsonSchema:
    """Rewrite one pydantic JSON schema node (and its children) into a structural one."""
    defs = schema.get("$defs", {}) if defs is None else defs
    node = copy.deepcopy(schema)

    if "$ref" in node:
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        node = {**_resolve_ref(node.pop("$ref"), defs), **siblings}

    for union_key in ("anyOf", "oneOf"):
        if union_key not in node or _is_value_validation(node[union_key]):
            continue
        options = _without_null(node.pop(union_key))
        if len(options) == 1:
            siblings = node
            node = {**structural_schema(options[0], defs), **siblings}
        elif {option.get("type") for option in options} == {"integer", "string"}:
            node["x-kubernetes-int-or-string"] = True
        else:
            raise SchemaError(f"cannot express a union of {options} structurally")

    if node.get("default", ...) is None:
        del node["default"]
    for key in _DROPPED_KEYS & node.keys():
        del node[key]

    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = node.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[plain] = value
            node[bound] = True

    if "properties" in node:
        node["type"] = "object"
        node["properties"] = {
            name: structural_schema(child, defs) for name, child in node["properties"].items()
        }
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
    elif node.get("type") == "object" or "additionalProperties" in node:
        extra = node.get("additionalProperties", True)
        node["type"] = "object"
        if extra is True or extra == {}:
            node.pop("additionalProperties", None)
            node["x-kubernetes-preserve-unknown-fields"] = True
        else:
            node["additionalProperties"] = structural_schema(extra, defs)

    if node.get("type") == "array":
        node["items"] = structural_schema(node.get("items", {}), defs)

    if "type" not in node and not node.get("x-kubernetes-int-or-string"):
        if "enum" in node:
            node["type"] = "string"
        else:
            node["x-kubernetes-preserve-unknown-fields"] = True
    return node


def _model_schema(model: type[BaseModel]) -> JsonSchema:
    return structural_schema(model.model_json_schema(by_alias=True, mode="validation"))


def build_crd(kind: CrdKind = AIJOB_CRD) -> dict[str, Any]:
    """The complete CRD of one resource (the AIJob's by default) as a dict."""
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "subresources": kind.subresources,
        "additionalPrinterColumns": kind.printer_columns,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "description": kind.description,
                "required": ["spec"],
                "x-kubernetes-validations": [kind.name_rule],
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": _model_schema(kind.spec_model),
                    "status": _model_schema(kind.status_model),
                },
            }
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": kind.crd_name,
            "annotations": {"aijob.dev/generated-by": "aijob_api.crd (make generate)"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": list(kind.short_names),
                "categories": list(kind.categories),
            },
            "scope": "Namespaced",
            "versions": [version],
        },
    }


def render_crd(kind: CrdKind = AIJOB_CRD) -> str:
    """A CRD as the YAML text checked into the repository."""
    header = "# Generated from the pydantic models in api/src/aijob_api by `make generate`.\n"
    header += "# Do not edit by hand: a test fails when this file and the models differ.\n"
    return header + yaml.safe_dump(build_crd(kind), sort_keys=False, width=100)


def kind_of_file(path: Path) -> CrdKind:
    """The resource a CRD file holds, from its name (`aijob.dev_<plural>.yaml`)."""
    for kind in CRD_KINDS:
        if path.name == kind.file_name:
            return kind
    names = ", ".join(kind.file_name for kind in CRD_KINDS)
    raise ValueError(f"{path}: a CRD file is named after its resource: one of {names}")


def main(argv: list[str] | None = None) -> int:
    """Write each CRD file given (its name says which), or check that they are current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="+", type=Path, help="files to write (or check)")
    parser.add_argument("--check", action="store_true", help="fail if a file is not current")
    args = parser.parse_args(argv)
    try:
        texts = {path: render_crd(kind_of_file(path)) for path in args.paths}
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    stale = []
    for path, text in texts.items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if stale:
        names = ", ".join(str(path) for path in stale)
        print(f"stale generated CRD: {names}; run `make generate`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
