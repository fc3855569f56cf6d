"""Turn inference records into a feature matrix, naming the record that does not fit.

A record may be a list of numbers (in the training feature order), an object
`{"features": [...]}`, or an object keyed by the training feature names (a CSV
row). Extra keys in an object are ignored; missing ones are bad input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aijob_worker.errors import BadInputError

RECORDS_FIELD = "spec.input.records"


def records_to_matrix(
    records: Sequence[Any], feature_names: Sequence[str], *, offset: int = 0
) -> NDArray[np.float32]:
    """Stack records into an (n, n_features) float32 matrix."""
    matrix = np.empty((len(records), len(feature_names)), dtype=np.float32)
    for index, record in enumerate(records):
        matrix[index] = record_to_vector(record, feature_names, index=offset + index)
    return matrix


def record_to_vector(record: Any, feature_names: Sequence[str], *, index: int) -> list[float]:
    """One record as a list of floats in the training feature order."""
    field = f"{RECORDS_FIELD}[{index}]"
    values: Any = record
    if isinstance(record, Mapping):
        if "features" in record:
            values = record["features"]
        else:
            missing = [name for name in feature_names if name not in record]
            if missing:
                raise BadInputError(
                    field,
                    f"missing feature(s) {', '.join(missing[:5])}; give all "
                    f"{len(feature_names)} features by name, as a list, "
                    "or as {'features': [...]}",
                )
            values = [record[name] for name in feature_names]
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise BadInputError(field, f"expected a list of {len(feature_names)} numbers")
    if len(values) != len(feature_names):
        raise BadInputError(
            field, f"has {len(values)} values; the model was trained on {len(feature_names)}"
        )
    try:
        return [float(value) for value in values]
    except (TypeError, ValueError) as error:
        raise BadInputError(field, f"holds a value that is not a number ({error})") from error
