"""Generate the AIJob CustomResourceDefinition from the pydantic models.

pydantic emits JSON Schema 2020-12; a CRD needs a structural OpenAPI v3 schema.
`structural_schema` rewrites one into the other (inline references, plain types
for optionals, free-form objects marked to keep unknown fields, OpenAPI's
exclusive bounds, no titles); `build_crd` wraps it with names, printer columns
and the status subresource. `main` writes the file that `make generate` keeps
current and a test compares against.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from aijob_api.constants import (
    CRD_NAME,
    GROUP,
    KIND,
    MAX_NAME_LENGTH,
    PLURAL,
    SHORT_NAMES,
    SINGULAR,
    VERSION,
)
from aijob_api.spec import AIJobSpec
from aijob_api.status import AIJobStatus
from aijob_api.validation import DNS_LABEL_PATTERN

JsonSchema = dict[str, Any]

PRINTER_COLUMNS: Final[list[dict[str, Any]]] = [
    {"name": "Task", "type": "string", "jsonPath": ".spec.task"},
    {"name": "Framework", "type": "string", "jsonPath": ".status.framework"},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Progress", "type": "string", "jsonPath": ".status.progress.percent"},
    {"name": "GPUs", "type": "integer", "jsonPath": ".spec.resources.gpu"},
    {"name": "Priority", "type": "string", "jsonPath": ".spec.priority"},
    {"name": "Attempts", "type": "integer", "jsonPath": ".status.attempts"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Model", "type": "string", "jsonPath": ".spec.model.type", "priority": 1},
    {"name": "Node", "type": "string", "jsonPath": ".status.nodeName", "priority": 1},
    {"name": "Job", "type": "string", "jsonPath": ".status.jobName", "priority": 1},
    {"name": "Message", "type": "string", "jsonPath": ".status.message", "priority": 1},
]
"""Columns of `kubectl get aijobs`; priority 1 ones show with `-o wide`."""

NAME_RULE: Final[dict[str, str]] = {
    "rule": (
        f"size(self.metadata.name) <= {MAX_NAME_LENGTH} && "
        f"self.metadata.name.matches('{DNS_LABEL_PATTERN}')"
    ),
    "message": (
        f"metadata.name must be a DNS label of at most {MAX_NAME_LENGTH} characters "
        "(it names the Job and its pods' hostname)"
    ),
    "reason": "FieldValueInvalid",
}
"""CEL rule on the object's name, which becomes the child Job's name."""

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


def _model_schema(model: type[AIJobSpec] | type[AIJobStatus]) -> JsonSchema:
    return structural_schema(model.model_json_schema(by_alias=True, mode="validation"))


def build_crd() -> dict[str, Any]:
    """The complete AIJob CRD as a dict."""
    spec_schema = _model_schema(AIJobSpec)
    status_schema = _model_schema(AIJobStatus)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": CRD_NAME,
            "annotations": {"aijob.dev/generated-by": "aijob_api.crd (make generate)"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": list(SHORT_NAMES),
                "categories": ["all", "aijob"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": (
                                "An AI training or inference job, run by the aijob operator as a "
                                "Kubernetes Job on a framework-specific worker image."
                            ),
                            "required": ["spec"],
                            "x-kubernetes-validations": [NAME_RULE],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


def render_crd() -> str:
    """The CRD as the YAML text checked into the repository."""
    header = "# Generated from the pydantic models in api/src/aijob_api by `make generate`.\n"
    header += "# Do not edit by hand: a test fails when this file and the models differ.\n"
    return header + yaml.safe_dump(build_crd(), sort_keys=False, width=100)


def main(argv: list[str] | None = None) -> int:
    """Write the CRD to each path given, or check that they are current with --check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="+", type=Path, help="files to write (or check)")
    parser.add_argument("--check", action="store_true", help="fail if a file is not current")
    args = parser.parse_args(argv)
    text = render_crd()
    stale = []
    for path in args.paths:
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
