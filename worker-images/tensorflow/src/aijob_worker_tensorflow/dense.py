"""keras_dense: a fully connected network (dense layers with dropout)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import keras
from aijob_worker.data.tabular import TabularData
from aijob_worker.hyperparameters import Hyperparameters, OptimizerHyperparameters
from pydantic import Field

from aijob_worker_tensorflow.base import KerasRunner


class DenseHyperparameters(OptimizerHyperparameters):
    """Layer widths and dropout, besides epochs, learning rate, batch size and seed."""

    epochs: Annotated[int, Field(ge=1, le=10_000, description="Passes over the data.")] = 20
    hidden_units: Annotated[
        list[Annotated[int, Field(ge=1, le=8192)]],
        Field(min_length=1, max_length=8, description="Units of each hidden layer."),
    ] = Field(default_factory=lambda: [64, 32])
    dropout: Annotated[float, Field(ge=0, lt=1, description="Dropout after each layer.")] = 0.1


class KerasDenseRunner(KerasRunner):
    """Dense layers with ReLU and dropout."""

    model_types: ClassVar[frozenset[str]] = frozenset({"keras_dense"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = DenseHyperparameters

    def layers(self, data: TabularData, hyperparameters: OptimizerHyperparameters) -> list[Any]:
        """Dense + dropout per configured width."""
        assert isinstance(hyperparameters, DenseHyperparameters)
        layers: list[Any] = []
        for units in hyperparameters.hidden_units:
            layers.append(keras.layers.Dense(units, activation="relu"))
            if hyperparameters.dropout:
                layers.append(keras.layers.Dropout(hyperparameters.dropout))
        return layers
