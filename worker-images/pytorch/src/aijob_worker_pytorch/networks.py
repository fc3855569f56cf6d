"""The tabular networks: a multi-layer perceptron and a small CNN over square images.

Both start with a `Standardize` layer holding the training rows' mean and
standard deviation as buffers, so a saved state dict is the whole model.
"""

from __future__ import annotations

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


def mlp(features: int, classes: int, hidden_units: list[int], dropout: float) -> nn.Sequential:
    """Standardize, then Linear-ReLU-Dropout per hidden width, then a linear head."""
    layers: list[nn.Module] = [Standardize(features)]
    width = features
    for units in hidden_units:
        layers += [nn.Linear(width, units), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = units
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def cnn(side: int, classes: int, filters: list[int], dense_units: int) -> nn.Sequential:
    """Standardize, view as a one-channel image, conv blocks, then a dense head."""
    layers: list[nn.Module] = [Standardize(side * side), nn.Unflatten(1, (1, side, side))]
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
