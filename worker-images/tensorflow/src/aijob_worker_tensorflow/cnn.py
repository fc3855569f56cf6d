"""keras_cnn: a small convolutional network over square images given as rows.

scikit-learn's digits are 8x8 images; a CSV works when its feature count is a
perfect square (the row is read as a one-channel image). Each convolution
block is a 3x3 convolution and, while the image is at least 4 pixels wide, a
2x2 max-pooling.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

import keras
from aijob_worker.data.tabular import TabularData
from aijob_worker.errors import BadInputError
from aijob_worker.hyperparameters import Hyperparameters, OptimizerHyperparameters
from pydantic import Field

from aijob_worker_tensorflow.base import KerasRunner


class CnnHyperparameters(OptimizerHyperparameters):
    """Filters per convolution block and the dense head's width."""

    epochs: Annotated[int, Field(ge=1, le=10_000, description="Passes over the data.")] = 15
    filters: Annotated[
        list[Annotated[int, Field(ge=1, le=1024)]],
        Field(min_length=1, max_length=6, description="Filters of each convolution block."),
    ] = Field(default_factory=lambda: [16, 32])
    dense_units: Annotated[int, Field(ge=1, le=8192, description="Units of the dense head.")] = 64


def image_side(data: TabularData) -> int:
    """The side of the square image each row holds (bad input when there is none)."""
    if data.image_shape is not None:
        height, width = data.image_shape
        if height == width:
            return height
    side = math.isqrt(data.n_features)
    if side * side != data.n_features:
        raise BadInputError(
            "spec.dataset",
            f"a convolutional model needs square images; {data.n_features} features "
            "are not a perfect square (use digits, or a CSV of N*N pixel columns)",
        )
    return side


class KerasCnnRunner(KerasRunner):
    """Convolution blocks over the row read as an image, then a dense head."""

    model_types: ClassVar[frozenset[str]] = frozenset({"keras_cnn"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = CnnHyperparameters

    def check_data(self, data: TabularData) -> None:
        """Only square images."""
        image_side(data)

    def layers(self, data: TabularData, hyperparameters: OptimizerHyperparameters) -> list[Any]:
        """Reshape to an image, convolve and pool, flatten, dense head."""
        assert isinstance(hyperparameters, CnnHyperparameters)
        side = image_side(data)
        layers: list[Any] = [keras.layers.Reshape((side, side, 1))]
        width = side
        for filters in hyperparameters.filters:
            layers.append(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
            if width >= 4:
                layers.append(keras.layers.MaxPooling2D(2))
                width //= 2
        layers += [
            keras.layers.Flatten(),
            keras.layers.Dense(hyperparameters.dense_units, activation="relu"),
        ]
        return layers
