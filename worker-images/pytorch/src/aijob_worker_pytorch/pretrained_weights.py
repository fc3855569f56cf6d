"""Pretrained weights for a built-in PyTorch network: a state-dict or a TorchScript file.

The network is built from the job's configuration (model type, sizes, the data's
features and classes) as for training from scratch; the file's tensors then replace its
own, by name and shape, all of them (a missing, extra or differently shaped tensor means
the file is not a model of that configuration: bad input naming `model.pretrained.uri`).
A state-dict is read with `weights_only` (no pickled code runs); a TorchScript file is
loaded with `torch.jit.load` and its parameters and buffers taken.
"""

from __future__ import annotations

from pathlib import Path

import torch
from aijob_api.pretrained import PretrainedFormat
from aijob_worker.errors import BadInputError
from aijob_worker.pretrained import URI_FIELD
from torch import nn

WEIGHT_FORMATS = frozenset({PretrainedFormat.STATE_DICT, PretrainedFormat.TORCHSCRIPT})
"""The formats a built-in PyTorch network starts from."""


def load_weights(
    model: nn.Module, path: Path, form: PretrainedFormat, *, uri: str, device: torch.device
) -> None:
    """Replace the network's tensors by the file's (all of them, same names and shapes)."""
    try:
        if form is PretrainedFormat.TORCHSCRIPT:
            state = torch.jit.load(str(path), map_location=device).state_dict()  # type: ignore[no-untyped-call]
        else:
            state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises RuntimeError, pickle and zip errors alike
        raise BadInputError(URI_FIELD, f"{uri} is not a {form} file: {error}") from error
    if not isinstance(state, dict) or not all(
        isinstance(value, torch.Tensor) for value in state.values()
    ):
        raise BadInputError(URI_FIELD, f"{uri} is not a {form} (a mapping of names to tensors)")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise BadInputError(
            URI_FIELD, f"{uri} does not fit this model's configuration: {error}"
        ) from error
