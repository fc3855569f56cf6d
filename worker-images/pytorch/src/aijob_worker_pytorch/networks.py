"""The networks over tabular rows: an MLP, and image classifiers over square images.

The image networks read each row as a one-channel square image (digits are
8x8): a small CNN, and the ResNet, VGG and AlexNet families scaled to small
images (stride 1 where the originals stride down a 224-pixel photo, pooling
only while the image is at least 2 pixels wide). torchvision is not used: the
architectures are written here and randomly initialised.

Every network starts with a `Standardize` layer holding the training rows'
mean and standard deviation as buffers, so a saved state dict is the whole model.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Standardize(nn.Module):
    """(x - mean) / std with the statistics stored in the state dict."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))

    def fit(self, x: torch.Tensor) -> None:
        """Take the statistics of the training rows."""
        self.mean.copy_(x.mean(dim=0))
        self.std.copy_(x.std(dim=0).clamp_min(1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Standardise a batch."""
        return (x - self.mean) / self.std


def dense_layers(
    features: int, classes: int, hidden_units: list[int], dropout: float
) -> list[nn.Module]:
    """Linear-ReLU-Dropout per hidden width, then a linear head over the classes."""
    layers: list[nn.Module] = []
    width = features
    for units in hidden_units:
        layers += [nn.Linear(width, units), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = units
    layers.append(nn.Linear(width, classes))
    return layers


def mlp(features: int, classes: int, hidden_units: list[int], dropout: float) -> nn.Sequential:
    """Standardize, then the dense layers."""
    return nn.Sequential(
        Standardize(features), *dense_layers(features, classes, hidden_units, dropout)
    )


def image_input(side: int) -> list[nn.Module]:
    """Standardize the pixels of a row, then view it as a one-channel side x side image."""
    return [Standardize(side * side), nn.Unflatten(1, (1, side, side))]


def cnn(side: int, classes: int, filters: list[int], dense_units: int) -> nn.Sequential:
    """Standardize, view as a one-channel image, conv blocks, then a dense head."""
    layers = image_input(side)
    channels, width = 1, side
    for count in filters:
        layers += [nn.Conv2d(channels, count, kernel_size=3, padding=1), nn.ReLU()]
        if width >= 4:
            layers.append(nn.MaxPool2d(2))
            width //= 2
        channels = count
    layers += [
        nn.Flatten(),
        nn.Linear(channels * width * width, dense_units),
        nn.ReLU(),
        nn.Linear(dense_units, classes),
    ]
    return nn.Sequential(*layers)


def _he_initialised(network: nn.Sequential) -> nn.Sequential:
    """He-normal convolution kernels (fan out, as torchvision initialises ResNet and VGG)."""
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return network


class ResidualBlock(nn.Module):
    """ResNet's basic block: two 3x3 convolutions with batch norm, plus the skip connection.

    The skip is the identity, or a strided 1x1 convolution with batch norm when
    the block changes the width or the resolution.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))."""
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def resnet(side: int, classes: int, widths: list[int], blocks_per_stage: int) -> nn.Sequential:
    """A ResNet: a 3x3 stem, then one stage of residual blocks per width, then pool and head.

    Each stage after the first halves the resolution in its first block (while
    the image is at least 2 pixels wide). With widths [16, 32, 64] and n blocks
    per stage this is the CIFAR ResNet of depth 6n+2.
    """
    layers = image_input(side)
    layers += [
        nn.Conv2d(1, widths[0], 3, padding=1, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(),
    ]
    channels, width = widths[0], side
    for stage, out_channels in enumerate(widths):
        for block in range(blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 and width >= 2 else 1
            layers.append(ResidualBlock(channels, out_channels, stride))
            channels, width = out_channels, math.ceil(width / stride)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes)]
    return _he_initialised(nn.Sequential(*layers))


def vgg(
    side: int,
    classes: int,
    filters: list[int],
    convs_per_block: int,
    batch_norm: bool,
    dense_units: int,
    dropout: float,
) -> nn.Sequential:
    """A VGG: blocks of 3x3 convolutions (with batch norm if asked), each then 2x2 max-pooled.

    The head is VGG's: two dense layers with ReLU and dropout, then the classes.
    """
    layers = image_input(side)
    channels, width = 1, side
    for count in filters:
        for _ in range(convs_per_block):
            layers.append(nn.Conv2d(channels, count, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(count))
            layers.append(nn.ReLU())
            channels = count
        if width >= 2:
            layers.append(nn.MaxPool2d(2))
            width //= 2
    layers.append(nn.Flatten())
    layers += dense_layers(channels * width * width, classes, [dense_units] * 2, dropout)
    return _he_initialised(nn.Sequential(*layers))


def alexnet(
    side: int,
    classes: int,
    filters: list[int],
    first_kernel_size: int,
    dense_units: int,
    dropout: float,
) -> nn.Sequential:
    """An AlexNet: five convolutions (a large first kernel, then 5x5, then three 3x3).

    Overlapping 3x3 max-pooling with stride 2 follows the first, second and
    fifth convolution (while the image is at least 2 pixels wide); the head is
    two dense layers with ReLU and dropout, then the classes (torchvision's
    layout, without local response normalisation).
    """
    layers = image_input(side)
    kernels = [first_kernel_size, 5, 3, 3, 3]
    pooled_after = {0, 1, 4}
    channels, width = 1, side
    for index, (count, kernel) in enumerate(zip(filters, kernels, strict=True)):
        layers += [nn.Conv2d(channels, count, kernel, padding=kernel // 2), nn.ReLU()]
        channels = count
        if index in pooled_after and width >= 2:
            layers.append(nn.MaxPool2d(3, stride=2, padding=1))
            width = math.ceil(width / 2)
    layers.append(nn.Flatten())
    layers += dense_layers(channels * width * width, classes, [dense_units] * 2, dropout)
    return _he_initialised(nn.Sequential(*layers))
