"""mobilenet, efficientnet, inception: `keras.applications` networks over square images as rows.

MobileNetV2, EfficientNetB0 and InceptionV3, randomly initialised
(`weights=None`: nothing is downloaded), without their ImageNet heads. Each
row is read as a one-channel image (digits are 8x8), repeated to the three
channels the architectures take and resized inside the model to the image
size (by default each architecture's minimum: 32x32 for MobileNetV2 and
EfficientNetB0, 75x75 for InceptionV3); the network's pooled features feed
the base's softmax. Everything else (normalisation, `model.fit` with the
progress callback, checkpoints, saving, inference) is the `KerasRunner`'s.

Batch norm's moving statistics, which inference uses, follow the training
batches with `batchNormMomentum` (0.9 by default; Keras builds MobileNetV2
with 0.999, which on a small data set leaves them at their initial values
for hundreds of steps).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Annotated, Any, ClassVar

import keras
from aijob_worker.data.tabular import TabularData
from aijob_worker.hyperparameters import Hyperparameters, OptimizerHyperparameters
from pydantic import Field

from aijob_worker_tensorflow.base import KerasRunner
from aijob_worker_tensorflow.cnn import image_side


class ApplicationHyperparameters(OptimizerHyperparameters):
    """Epochs, learning rate, batch size, seed; batch norm momentum; the image size."""

    epochs: Annotated[int, Field(ge=1, le=10_000, description="Passes over the data.")] = 10
    batch_norm_momentum: Annotated[
        float, Field(ge=0, lt=1, description="Momentum of batch norm's moving statistics.")
    ] = 0.9
    image_size: int
    """The side the images are resized to (each family sets its minimum and default)."""


class MobileNetHyperparameters(ApplicationHyperparameters):
    """MobileNetV2's width multiplier, and the image size (at least 32)."""

    alpha: Annotated[
        float, Field(ge=0.1, le=1.4, description="Width multiplier of every layer.")
    ] = 0.35
    image_size: Annotated[
        int, Field(ge=32, le=512, description="Side the images are resized to.")
    ] = 32


class EfficientNetHyperparameters(ApplicationHyperparameters):
    """The image size (at least 32)."""

    image_size: Annotated[
        int, Field(ge=32, le=512, description="Side the images are resized to.")
    ] = 32


class InceptionHyperparameters(ApplicationHyperparameters):
    """The image size (at least 75)."""

    image_size: Annotated[
        int, Field(ge=75, le=512, description="Side the images are resized to.")
    ] = 75


def grayscale_to_rgb(size: int) -> Any:
    """A layer (a small functional model) repeating a one-channel image to three channels."""
    gray = keras.Input(shape=(size, size, 1))
    rgb = keras.layers.Concatenate()([gray, gray, gray])
    return keras.Model(gray, rgb, name="grayscale_to_rgb")


class KerasApplicationRunner(KerasRunner):
    """A `keras.applications` architecture over the row read as a grayscale image."""

    input_scale: ClassVar[float] = 1.0
    """Multiplies the standardised pixels on the way in (for networks that rescale inside)."""

    def check_data(self, data: TabularData) -> None:
        """Only square images."""
        image_side(data)

    @abstractmethod
    def application(self, shape: tuple[int, int, int], hyperparameters: Hyperparameters) -> Any:
        """The architecture for images of `shape`, pooled to a feature vector, untrained."""

    def layers(self, data: TabularData, hyperparameters: OptimizerHyperparameters) -> list[Any]:
        """Reshape to an image, resize, repeat to RGB, the architecture."""
        assert isinstance(hyperparameters, ApplicationHyperparameters)
        side, size = image_side(data), hyperparameters.image_size
        network = self.application((size, size, 3), hyperparameters)
        for layer in network.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = hyperparameters.batch_norm_momentum
        scale = [keras.layers.Rescaling(self.input_scale)] if self.input_scale != 1 else []
        return [
            keras.layers.Reshape((side, side, 1)),
            keras.layers.Resizing(size, size),
            grayscale_to_rgb(size),
            *scale,
            network,
        ]


class MobileNetRunner(KerasApplicationRunner):
    """mobilenet: MobileNetV2 (inverted residual blocks of depthwise convolutions)."""

    model_types: ClassVar[frozenset[str]] = frozenset({"mobilenet"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = MobileNetHyperparameters

    def application(self, shape: tuple[int, int, int], hyperparameters: Hyperparameters) -> Any:
        """MobileNetV2 at the configured width."""
        assert isinstance(hyperparameters, MobileNetHyperparameters)
        return keras.applications.MobileNetV2(
            input_shape=shape,
            alpha=hyperparameters.alpha,
            include_top=False,
            weights=None,
            pooling="avg",
        )


class EfficientNetRunner(KerasApplicationRunner):
    """efficientnet: EfficientNetB0 (MBConv blocks with squeeze-and-excitation)."""

    model_types: ClassVar[frozenset[str]] = frozenset({"efficientnet"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = EfficientNetHyperparameters
    input_scale: ClassVar[float] = 255.0
    """EfficientNet divides its input by 255 (it expects 0-255 pixels); this undoes it."""

    def application(self, shape: tuple[int, int, int], hyperparameters: Hyperparameters) -> Any:
        """EfficientNetB0."""
        return keras.applications.EfficientNetB0(
            input_shape=shape, include_top=False, weights=None, pooling="avg"
        )


class InceptionRunner(KerasApplicationRunner):
    """inception: InceptionV3 (parallel 1x1, 3x3, 5x5 and pooling branches per module)."""

    model_types: ClassVar[frozenset[str]] = frozenset({"inception"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = InceptionHyperparameters

    def application(self, shape: tuple[int, int, int], hyperparameters: Hyperparameters) -> Any:
        """InceptionV3."""
        return keras.applications.InceptionV3(
            input_shape=shape, include_top=False, weights=None, pooling="avg"
        )
