"""Inference outputs of classifiers, in one shape for every framework.

Each record's output names the predicted class and its probability (as the
seed inference servers did: `prediction`, `confidence`) and lists every
class's probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

PROBABILITY_DIGITS = 6


def classification_outputs(probabilities: ArrayLike, class_names: Sequence[str]) -> list[Any]:
    """One output per row of an (n, classes) probability matrix."""
    outputs = []
    for row in np.asarray(probabilities, dtype=np.float64):
        best = int(row.argmax())
        outputs.append(
            {
                "prediction": class_names[best],
                "confidence": round(float(row[best]), PROBABILITY_DIGITS),
                "probabilities": {
                    name: round(float(value), PROBABILITY_DIGITS)
                    for name, value in zip(class_names, row, strict=True)
                },
            }
        )
    return outputs
