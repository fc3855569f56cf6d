"""resnet, vgg, alexnet: the classic image classifier families over square images as rows.

Each is a `SquareImageRunner`: the same data, training loop, checkpoints and
inference as the cnn, with its own network (`networks.resnet`, `networks.vgg`,
`networks.alexnet`) built from its hyperparameters and randomly initialised.
A runner names its builder and the hyperparameters it passes to it.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from aijob_worker.hyperparameters import Hyperparameters
from pydantic import AfterValidator, Field

from aijob_worker_pytorch.networks import alexnet, resnet, vgg
from aijob_worker_pytorch.tabular import SquareImageRunner, TabularHyperparameters

Filters = Annotated[int, Field(ge=1, le=1024)]


class DenseHeadHyperparameters(TabularHyperparameters):
    """The two-layer dense head of VGG and AlexNet: its width and dropout."""

    epochs: Annotated[int, Field(ge=1, le=10_000, description="Passes over the data.")] = 10
    dense_units: Annotated[
        int, Field(ge=1, le=8192, description="Units of each of the two dense layers.")
    ] = 128
    dropout: Annotated[float, Field(ge=0, lt=1, description="Dropout after each dense layer.")] = (
        0.5
    )


class ResNetHyperparameters(TabularHyperparameters):
    """Stage widths and residual blocks per stage (the depth)."""

    epochs: Annotated[int, Field(ge=1, le=10_000, description="Passes over the data.")] = 10
    widths: Annotated[
        list[Filters],
        Field(
            min_length=1,
            max_length=6,
            description="Channels of each stage; every stage after the first halves the image.",
        ),
    ] = Field(default_factory=lambda: [16, 32, 64])
    blocks_per_stage: Annotated[
        int,
        Field(ge=1, le=16, description="Residual blocks per stage (depth 6n+2 with 3 stages)."),
    ] = 2


class VGGHyperparameters(DenseHeadHyperparameters):
    """Filters per block, 3x3 convolutions per block, batch norm, and the dense head."""

    filters: Annotated[
        list[Filters],
        Field(min_length=1, max_length=6, description="Filters of each convolution block."),
    ] = Field(default_factory=lambda: [32, 64, 128])
    convs_per_block: Annotated[
        int, Field(ge=1, le=4, description="3x3 convolutions in each block.")
    ] = 2
    batch_norm: Annotated[
        bool, Field(description="Batch norm after each convolution (VGG-BN).")
    ] = True


def _odd(value: int) -> int:
    if value % 2 == 0:
        raise ValueError(f"{value} is even; the first kernel needs an odd size")
    return value


class AlexNetHyperparameters(DenseHeadHyperparameters):
    """Filters of the five convolutions, the first kernel's size, and the dense head."""

    filters: Annotated[
        list[Filters],
        Field(
            min_length=5,
            max_length=5,
            description="Filters of the five convolutions.",
        ),
    ] = Field(default_factory=lambda: [32, 64, 96, 96, 64])
    first_kernel_size: Annotated[
        int,
        Field(ge=3, le=11, description="Kernel of the first convolution (odd)."),
        AfterValidator(_odd),
    ] = 5


class ResNetRunner(SquareImageRunner):
    """resnet: residual blocks with batch norm and skip connections."""

    model_types: ClassVar[frozenset[str]] = frozenset({"resnet"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = ResNetHyperparameters
    builder = resnet
    settings = ("widths", "blocks_per_stage")


class VGGRunner(SquareImageRunner):
    """vgg: stacks of 3x3 convolutions with max-pooling, then a dense head with dropout."""

    model_types: ClassVar[frozenset[str]] = frozenset({"vgg"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = VGGHyperparameters
    builder = vgg
    settings = ("filters", "convs_per_block", "batch_norm", "dense_units", "dropout")


class AlexNetRunner(SquareImageRunner):
    """alexnet: a large-kernel convolution front, five convolutions, a dense head with dropout."""

    model_types: ClassVar[frozenset[str]] = frozenset({"alexnet"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = AlexNetHyperparameters
    builder = alexnet
    settings = ("filters", "first_kernel_size", "dense_units", "dropout")
