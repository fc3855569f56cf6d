"""Where PyTorch runs: the first CUDA device when there is one, else the CPU."""

from __future__ import annotations

import torch


def torch_device() -> torch.device:
    """`cuda:0` when CUDA is available, else `cpu`."""
    return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
