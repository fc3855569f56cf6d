"""What a served model takes and gives, in Open Inference Protocol terms, from its manifest.

Read from what the runner saved (`Manifest.metadata`), so no runner has to say more:

- a model saved with `featureNames` (every tabular runner) takes one FP32 input
  `features` of shape [-1, n_features], rows in the training feature order (or
  one input per named feature, see `v2.records_from_inputs`);
- any other model (the text runners) takes one BYTES input `text` of shape [-1],
  one string per record;
- a model saved with `classNames` (every classifier) gives `prediction` (BYTES,
  [-1]), `confidence` (FP64, [-1]) and `probabilities` (FP64, [-1, n_classes], in
  the `classNames` order);
- any other model gives `output` (BYTES, [-1]): each record's output as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

FEATURES_INPUT: Final = "features"
TEXT_INPUT: Final = "text"
PREDICTION_OUTPUT: Final = "prediction"
CONFIDENCE_OUTPUT: Final = "confidence"
PROBABILITIES_OUTPUT: Final = "probabilities"
JSON_OUTPUT: Final = "output"
BATCH: Final = -1
"""A dimension of any size (the batch), as V2 metadata writes it."""


@dataclass(frozen=True)
class TensorSpec:
    """One input or output as model metadata describes it."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def metadata(self) -> dict[str, Any]:
        """The V2 metadata object of the tensor."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


@dataclass(frozen=True)
class ModelSignature:
    """The served model's inputs and outputs."""

    feature_names: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> ModelSignature:
        """The signature of a model saved with this manifest metadata."""
        return cls(
            feature_names=tuple(str(name) for name in metadata.get("featureNames") or ()),
            class_names=tuple(str(name) for name in metadata.get("classNames") or ()),
        )

    @property
    def tabular(self) -> bool:
        """Whether records are rows of named numeric features."""
        return bool(self.feature_names)

    @property
    def classifier(self) -> bool:
        """Whether outputs are a predicted class, its confidence and every class's probability."""
        return bool(self.class_names)

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        """The inputs metadata announces."""
        if self.tabular:
            return (TensorSpec(FEATURES_INPUT, "FP32", (BATCH, len(self.feature_names))),)
        return (TensorSpec(TEXT_INPUT, "BYTES", (BATCH,)),)

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        """The outputs metadata announces (and an infer answer holds unless some are asked)."""
        if self.classifier:
            return (
                TensorSpec(PREDICTION_OUTPUT, "BYTES", (BATCH,)),
                TensorSpec(CONFIDENCE_OUTPUT, "FP64", (BATCH,)),
                TensorSpec(PROBABILITIES_OUTPUT, "FP64", (BATCH, len(self.class_names))),
            )
        return (TensorSpec(JSON_OUTPUT, "BYTES", (BATCH,)),)
