"""Where PyTorch runs, and the process group of a pod of several processes.

One process: the first CUDA device when there is one, else the CPU. A process torchrun
started (`spec.distributed.processesPerNode` > 1; RANK, LOCAL_RANK, WORLD_SIZE set) uses
the GPU of its local rank and joins the group: nccl on GPUs, gloo on the CPU.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def torch_device() -> torch.device:
    """`cuda:<LOCAL_RANK>` (`cuda:0` outside torchrun) when CUDA is available, else `cpu`."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK') or 0)}")


def join_group() -> tuple[int, int]:
    """This process's rank and the group's size: (0, 1) outside a group of processes."""
    world_size = int(os.environ.get("WORLD_SIZE") or 1)
    if world_size <= 1 or not os.environ.get("RANK"):
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()
