"""How a write of the worker's share lands in an AIJob's status: one rule for both writers.

The worker's share (`progress`, `results`, `checkpoint`, `metricHistory`, `ranks`) is
written by the worker itself (status channel off) or by the operator's status server on
the worker's behalf (channel on). Either way a write names some parts and replaces each
one whole, except a keyed part (`KEYED_PARTS`: `ranks`), whose entries are written one by
one, so the ranks of a distributed job never overwrite each other.

- `merge_status_parts`: what a write does to a status (for a file, or reports merged
  before one write).
- `status_patch_operations`: the JSON patch (RFC 6902) of a write. Its first operation
  tests `/metadata/uid`, so the API server applies none of it to a namesake re-created
  since (a merge patch's `metadata.uid` is ignored on the status subresource). Without a
  status yet, `/status` is tested absent (the API server's JSON patch takes a null test
  value for "missing") and added whole; a keyed part whose map is missing is tested
  absent and added whole. Should the status change in between, a test fails, nothing is
  applied (422), and the writer reads again and recomputes (`status_patch_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

KEYED_PARTS: Final = frozenset({"ranks"})
"""Parts written key by key, not replaced whole: each rank of a distributed job adds or
replaces only its own entry of `status.ranks`."""


def merge_status_parts(status: Mapping[str, Any], parts: Mapping[str, Any]) -> dict[str, Any]:
    """`status` with each part of `parts` replaced whole, a keyed part's entries one by one."""
    _check_parts(parts)
    merged = dict(status)
    for name, value in parts.items():
        existing = merged.get(name)
        if name in KEYED_PARTS and isinstance(existing, dict):
            merged[name] = {**existing, **value}
        else:
            merged[name] = value
    return merged


def status_patch_operations(
    parts: Mapping[str, Any],
    *,
    uid: str | None,
    status_exists: bool = True,
    missing_maps: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """The JSON patch of a write: the uid tested (when known), then each part set.

    `status_exists` False: `/status` is tested absent and added whole. `missing_maps`: the
    keyed parts whose map is absent, each tested absent and added whole; the other keyed
    parts add their entries one by one.
    """
    _check_parts(parts)
    operations: list[dict[str, Any]] = []
    if uid:
        operations.append({"op": "test", "path": "/metadata/uid", "value": uid})
    if not status_exists:
        return [
            *operations,
            {"op": "test", "path": "/status", "value": None},
            {"op": "add", "path": "/status", "value": dict(parts)},
        ]
    for name, value in parts.items():
        if name not in KEYED_PARTS:
            operations.append({"op": "add", "path": f"/status/{name}", "value": value})
        elif name in missing_maps:
            operations += [
                {"op": "test", "path": f"/status/{name}", "value": None},
                {"op": "add", "path": f"/status/{name}", "value": value},
            ]
        else:
            operations += [
                {"op": "add", "path": f"/status/{name}/{_pointer(key)}", "value": entry}
                for key, entry in value.items()
            ]
    return operations


def status_patch_for(
    parts: Mapping[str, Any], *, uid: str | None, status: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The JSON patch of a write into a status read just now (None: the AIJob has none)."""
    if status is None:
        return status_patch_operations(parts, uid=uid, status_exists=False)
    missing = frozenset(
        name for name in parts if name in KEYED_PARTS and not isinstance(status.get(name), dict)
    )
    return status_patch_operations(parts, uid=uid, missing_maps=missing)


def _check_parts(parts: Mapping[str, Any]) -> None:
    """Each part is a named object (a path segment of its own), a keyed part a map."""
    for name, value in parts.items():
        if value is None or not name or "/" in name or "~" in name:
            raise ValueError(f"status part {name!r}: a write replaces named parts with objects")
        if name in KEYED_PARTS and not isinstance(value, Mapping):
            raise ValueError(f"status part {name!r}: written key by key, it is a map")


def _pointer(key: str) -> str:
    """A map key as one JSON pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")
