"""Hyperparameters the runners read, and parsing that names the bad field.

Each runner declares a pydantic model with exactly the fields it reads:
`Hyperparameters` (a seed), `EpochHyperparameters` (plus epochs, periodic
checkpoints and how many are kept) or `OptimizerHyperparameters` (plus learning rate and batch
size), extended with its own. Unknown names are refused, so a typo such as
`learningrate`, or a setting the model does not have, is a clear bad-input
error instead of a silently ignored one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from aijob_worker.errors import bad_input_from_validation

HYPERPARAMETERS_FIELD = "spec.model.hyperparameters"
DEFAULT_KEEP_CHECKPOINTS = 3
"""Checkpoints of a job kept in its artifact store: the newest ones, older ones deleted."""

H = TypeVar("H", bound="Hyperparameters")


class Hyperparameters(BaseModel):
    """What every runner reads: the random seed."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    seed: Annotated[int, Field(ge=0, le=2**32 - 1, description="Random seed.")] = 42

    @property
    def total_epochs(self) -> int:
        """Epochs (or training stages) planned; 1 for one-pass models."""
        return 1

    @property
    def checkpoint_interval(self) -> int:
        """Checkpoint every this many epochs besides on SIGTERM (0: only on SIGTERM)."""
        return 0

    @property
    def checkpoints_kept(self) -> int:
        """How many of the newest checkpoints are kept (older ones are deleted)."""
        return DEFAULT_KEEP_CHECKPOINTS


class EpochHyperparameters(Hyperparameters):
    """Models trained in epochs (or stages): how many, and periodic checkpoints."""

    epochs: Annotated[int, Field(ge=1, le=10_000, description="Passes over the data.")] = 10
    checkpoint_every_epochs: Annotated[
        int,
        Field(ge=0, le=10_000, description="Also checkpoint every N epochs (0: only on SIGTERM)."),
    ] = 0
    keep_checkpoints: Annotated[
        int,
        Field(ge=1, le=1000, description="Keep the newest N checkpoints, delete older ones."),
    ] = DEFAULT_KEEP_CHECKPOINTS

    @property
    def total_epochs(self) -> int:
        """The `epochs` hyperparameter."""
        return self.epochs

    @property
    def checkpoint_interval(self) -> int:
        """The `checkpointEveryEpochs` hyperparameter."""
        return self.checkpoint_every_epochs

    @property
    def checkpoints_kept(self) -> int:
        """The `keepCheckpoints` hyperparameter."""
        return self.keep_checkpoints


class OptimizerHyperparameters(EpochHyperparameters):
    """Models trained by a gradient optimizer: learning rate and batch size."""

    learning_rate: Annotated[float, Field(gt=0, le=10, description="Optimizer step size.")] = 0.001
    batch_size: Annotated[int, Field(ge=1, le=65_536, description="Samples per step.")] = 32


def known_names(model: type[Hyperparameters]) -> list[str]:
    """The camelCase names a hyperparameters model accepts."""
    return sorted(field.alias or name for name, field in model.model_fields.items())


def parse_hyperparameters(model: type[H], raw: Mapping[str, Any]) -> H:
    """Validate the spec's hyperparameters; a bad one is a BadInputError naming it."""
    try:
        return model.model_validate(dict(raw))
    except ValidationError as error:
        details = []
        for detail in error.errors():
            if detail["type"] == "extra_forbidden":
                detail = {
                    **detail,
                    "msg": "not a hyperparameter of this model type; it reads "
                    + ", ".join(known_names(model)),
                }
            details.append(detail)
        raise bad_input_from_validation(HYPERPARAMETERS_FIELD, details) from error
