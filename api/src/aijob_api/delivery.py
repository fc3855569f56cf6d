"""How a job's spec reaches its worker: one JSON document in a pod annotation, mounted as a file.

The operator puts `spec_document(spec)` into the annotation `contract.SPEC_ANNOTATION` of
the Job's pod template, and a downwardAPI volume projects that annotation into the file
`contract.SPEC_FILE_PATH` of the worker container. An environment variable would cap the
spec at 128 KiB (Linux's limit on one variable) and a ConfigMap would cost one more API
write per job; the annotation costs nothing more, and the API server caps all the
annotations of an object together at 256 KiB.

That cap is the bound: the spec document, its annotation key and the worker pod's other
annotations (those of `spec.podTemplate`, plus a reserve for what the Job controller,
Kueue and admission webhooks add) must fit in it. `spec_delivery_problem` says, naming
the field that takes the most room, when a spec does not fit; the spec's own validator
calls it, so the gateway, the CLI and the operator refuse such a spec before any pod.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

MAX_POD_ANNOTATIONS_BYTES: Final = 256 * 1024
"""The API server's limit on all the annotations of one object together (keys and values)."""
ANNOTATIONS_RESERVE_BYTES: Final = 8 * 1024
"""Room kept for annotations others add to a worker pod (Job controller, Kueue, webhooks)."""
SPEC_DELIVERY_LIMIT_BYTES: Final = MAX_POD_ANNOTATIONS_BYTES - ANNOTATIONS_RESERVE_BYTES
"""What the spec annotation and the spec's `podTemplate.annotations` may take together."""

_ADVICE: Final = {
    "input.records": "put the records in a file and name it with input.uri",
    "model.hyperparameters": "pass large values in a file, not as hyperparameters",
    "podTemplate.annotations": "shorten podTemplate.annotations",
}
"""The parts of a spec that can be large, and what to do about each."""


def spec_document(spec: Mapping[str, Any]) -> str:
    """The spec as the worker reads it: compact JSON, sorted keys, UTF-8 left as is.

    `spec` is the wire form (camelCase, defaults filled, no nulls):
    `AIJobSpec.model_dump(mode="json", by_alias=True, exclude_none=True)`.
    """
    return json.dumps(spec, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def annotations_bytes(annotations: Mapping[str, str]) -> int:
    """Bytes the annotations count for against the API server's limit (keys plus values)."""
    return sum(len(key.encode()) + len(value.encode()) for key, value in annotations.items())


def spec_delivery_bytes(spec: Mapping[str, Any], annotation_key: str) -> int:
    """Bytes the spec takes in the worker pod's annotations: its own and `podTemplate`'s."""
    template = spec.get("podTemplate") or {}
    own = len(annotation_key.encode()) + len(spec_document(spec).encode())
    return own + annotations_bytes(template.get("annotations") or {})


def spec_delivery_problem(spec: Mapping[str, Any], annotation_key: str) -> str | None:
    """Why the spec cannot reach a worker pod (the largest part named first), or None."""
    size = spec_delivery_bytes(spec, annotation_key)
    if size <= SPEC_DELIVERY_LIMIT_BYTES:
        return None
    field = _largest_part(spec)
    advice = _ADVICE.get(field, "make the spec smaller")
    return (
        f"{field}: the spec takes {size / 1024:.1f} KiB in the worker pod's annotations, "
        f"more than the {SPEC_DELIVERY_LIMIT_BYTES // 1024} KiB a pod can carry; {advice}"
    )


def _largest_part(spec: Mapping[str, Any]) -> str:
    sizes: dict[str, int] = {}
    records = (spec.get("input") or {}).get("records")
    if records is not None:
        sizes["input.records"] = len(spec_document({"r": records}).encode())
    hyperparameters = (spec.get("model") or {}).get("hyperparameters")
    if hyperparameters:
        sizes["model.hyperparameters"] = len(spec_document(hyperparameters).encode())
    annotations = (spec.get("podTemplate") or {}).get("annotations")
    if annotations:
        # Counted twice: in the spec document and on the pod itself.
        sizes["podTemplate.annotations"] = 2 * annotations_bytes(annotations)
    return max(sizes, key=lambda name: sizes[name]) if sizes else "spec"
