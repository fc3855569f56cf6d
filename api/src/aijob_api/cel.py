"""CEL validation rules the API server runs, built from the same data as the Python checks.

Each function returns one `x-kubernetes-validations` entry; the models attach them with
`json_schema_extra` next to the fields they guard, and `aijob_api.crd` carries them
into the CRD unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def exactly_one_rule(first: str, second: str, message: str) -> dict[str, Any]:
    """Exactly one of two optional fields (wire names) is set."""
    return {"rule": f"has(self.{first}) != has(self.{second})", "message": message}


def immutability_rule(field: str) -> dict[str, Any]:
    """A spec field (wire name) that cannot be set, changed or removed after creation."""
    return {
        "rule": (
            f"has(self.{field}) == has(oldSelf.{field}) && "
            f"(!has(self.{field}) || self.{field} == oldSelf.{field})"
        ),
        "message": f"spec.{field} is immutable",
        "fieldPath": f".{field}",
        "reason": "FieldValueForbidden",
    }


def spoken_list(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`: how the messages and descriptions name several things."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def reserved_key_prefixes_rule(prefixes: Sequence[str], what: str) -> dict[str, Any]:
    """No key of a map starts with one of `prefixes`; `what` names the keys in the message."""
    if not prefixes:
        raise ValueError("a reserved-prefix rule needs at least one prefix")
    if any("'" in prefix or "\\" in prefix for prefix in prefixes):
        raise ValueError(f"prefixes must not hold quotes or backslashes: {prefixes}")
    clauses = " && ".join(f"!k.startsWith('{prefix}')" for prefix in prefixes)
    return {
        "rule": f"self.all(k, {clauses})",
        "message": f"{what} under {spoken_list(prefixes)} are reserved",
    }
