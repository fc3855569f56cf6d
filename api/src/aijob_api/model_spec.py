"""The model of an AIJob (`spec.model`): its type, name, hyperparameters, source, pretrained.

Re-exported by `aijob_api.spec`, which holds the rules across the spec's parts.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from aijob_api.inputs import ModelSource
from aijob_api.pretrained import PretrainedModel
from aijob_api.routing import model_type_description
from aijob_api.validation import MODEL_TYPE_PATTERN
from aijob_api.wire import WireModel

ModelTypeName = Annotated[
    str,
    Field(
        description=model_type_description(),
        min_length=1,
        max_length=63,
        pattern=MODEL_TYPE_PATTERN,
    ),
]
"""A model type of the table in `aijob_api.routing` (AIJobs and AIEndpoints name them alike)."""


class ModelSpec(WireModel):
    """The model to train or to run."""

    type: Annotated[
        ModelTypeName | None,
        Field(description=model_type_description()),
    ] = None
    name: Annotated[
        str | None,
        Field(description="A human name for the model, kept with its artifacts.", max_length=253),
    ] = None
    hyperparameters: Annotated[
        dict[str, Any],
        Field(
            description=(
                "Hyperparameters passed to the trainer, e.g. epochs, learningRate, batchSize, "
                "seed; each runner documents the ones it reads."
            ),
        ),
    ] = Field(default_factory=dict)
    source: Annotated[
        ModelSource | None,
        Field(description="For inference: the model to load."),
    ] = None
    pretrained: Annotated[
        PretrainedModel | None,
        Field(
            description=(
                "Training only: fine-tune this pretrained model (in the store, or a hub id) "
                "instead of starting from random weights."
            )
        ),
    ] = None
