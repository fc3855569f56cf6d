"""Between V2 tensors and the runner's records and outputs (the mapping docs/serving.md shows).

Inputs of a tabular model (one saved with `featureNames`), either:

- one numeric input (any name, `features` in the metadata) of shape
  [batch, n_features]: row i is record i, in the training feature order; or
- one numeric input per feature, named as the feature, each of shape [batch]
  (or [batch, 1]): record i takes element i of each.

Inputs of any other model: one BYTES input of shape [batch] (or [batch, 1]):
element i is record i (the text of a text model). Outputs: see `signature`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aijob_worker.serve.errors import invalid
from aijob_worker.serve.protocol import DecodedRequest, InferRequest, OutputTensor, RequestInput
from aijob_worker.serve.signature import (
    CONFIDENCE_OUTPUT,
    JSON_OUTPUT,
    PREDICTION_OUTPUT,
    PROBABILITIES_OUTPUT,
    ModelSignature,
)

V2_RECORD_PREFIX = "batch"
"""How a runner's error about record i is named for a V2 request: `batch[i]`."""


def records_from_inputs(signature: ModelSignature, decoded: DecodedRequest) -> list[Any]:
    """The records the request's inputs hold, one per batch row."""
    inputs = decoded.request.inputs
    if not signature.tabular:
        if len(inputs) != 1:
            raise invalid("inputs", f"this model takes one BYTES input; {len(inputs)} were given")
        column = _column(inputs[0], decoded.arrays[0], "inputs[0]", numeric=False)
        return [str(element) for element in column]
    if len(inputs) == 1 and inputs[0].name not in signature.feature_names:
        return _rows(inputs[0], decoded.arrays[0], len(signature.feature_names))
    return _rows_from_features(signature.feature_names, inputs, decoded.arrays)


def requested_outputs(signature: ModelSignature, request: InferRequest) -> list[str]:
    """The names of the outputs to answer: every output, or those asked for, in that order."""
    declared = [spec.name for spec in signature.outputs]
    if request.outputs is None:
        return declared
    for index, output in enumerate(request.outputs):
        if output.name not in declared:
            raise invalid(
                f"outputs[{index}].name",
                f"no output {output.name!r}; outputs are {', '.join(declared)}",
            )
    return [output.name for output in request.outputs]


def output_tensors(
    signature: ModelSignature, outputs: Sequence[Any], names: Sequence[str]
) -> list[OutputTensor]:
    """The named output tensors of the runner's outputs (names from `requested_outputs`)."""
    datatypes = {spec.name: spec.datatype for spec in signature.outputs}
    return [
        OutputTensor(name, datatypes[name], _output_array(signature, name, outputs))
        for name in names
    ]


def _rows(tensor: RequestInput, array: NDArray[Any], width: int) -> list[Any]:
    field = "inputs[0]"
    if array.ndim != 2 or array.shape[1] != width:
        raise invalid(
            field + ".shape",
            f"is {list(array.shape)}; this model takes [batch, {width}] "
            "(one row of features per record) or one input per feature",
        )
    _require_numeric(tensor, field)
    rows: list[Any] = array.astype(np.float64).tolist()
    return rows


def _rows_from_features(
    feature_names: Sequence[str], inputs: Sequence[RequestInput], arrays: Sequence[NDArray[Any]]
) -> list[Any]:
    by_name: dict[str, NDArray[Any]] = {}
    for index, (tensor, array) in enumerate(zip(inputs, arrays, strict=True)):
        field = f"inputs[{index}]"
        if tensor.name not in feature_names:
            raise invalid(
                field + ".name",
                f"{tensor.name!r} is not a feature of this model; give one input of shape "
                f"[batch, {len(feature_names)}] or one input per feature "
                f"({', '.join(feature_names[:5])}{', ...' if len(feature_names) > 5 else ''})",
            )
        if tensor.name in by_name:
            raise invalid(field + ".name", f"{tensor.name!r} is given twice")
        _require_numeric(tensor, field)
        by_name[tensor.name] = _column(tensor, array, field, numeric=True)
    missing = [name for name in feature_names if name not in by_name]
    if missing:
        raise invalid("inputs", f"missing feature input(s) {', '.join(missing[:5])}")
    lengths = {len(column) for column in by_name.values()}
    if len(lengths) != 1:
        raise invalid("inputs", f"the feature inputs differ in batch size: {sorted(lengths)}")
    matrix = np.column_stack([by_name[name].astype(np.float64) for name in feature_names])
    rows: list[Any] = matrix.tolist()
    return rows


def _column(
    tensor: RequestInput, array: NDArray[Any], field: str, *, numeric: bool
) -> NDArray[Any]:
    if not numeric and tensor.datatype != "BYTES":
        raise invalid(field + ".datatype", f"is {tensor.datatype}; this model takes BYTES")
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    if array.ndim != 1:
        raise invalid(field + ".shape", f"is {list(array.shape)}; expected [batch] or [batch, 1]")
    return array


def _require_numeric(tensor: RequestInput, field: str) -> None:
    if tensor.datatype in ("BYTES", "BOOL"):
        raise invalid(field + ".datatype", f"is {tensor.datatype}; this model takes numbers (FP32)")


def _output_array(signature: ModelSignature, name: str, outputs: Sequence[Any]) -> NDArray[Any]:
    try:
        if name == PREDICTION_OUTPUT:
            return np.array([str(output["prediction"]) for output in outputs], dtype=np.object_)
        if name == CONFIDENCE_OUTPUT:
            return np.array([output["confidence"] for output in outputs], dtype=np.float64)
        if name == PROBABILITIES_OUTPUT:
            return np.array(
                [
                    [output["probabilities"][label] for label in signature.class_names]
                    for output in outputs
                ],
                dtype=np.float64,
            ).reshape(len(outputs), len(signature.class_names))
    except (KeyError, TypeError) as error:
        raise RuntimeError(
            f"the runner's outputs are not classification outputs (no {error}); "
            "see aijob_worker.outputs.classification_outputs"
        ) from error
    assert name == JSON_OUTPUT
    return np.array([json.dumps(output) for output in outputs], dtype=np.object_)
