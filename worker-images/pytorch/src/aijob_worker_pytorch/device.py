"""Where PyTorch runs, and the process group of a pod of several processes.

One process: the first CUDA device when there is one, else the CPU. A process torchrun
started (`spec.distributed.processesPerNode` > 1; RANK, LOCAL_RANK, WORLD_SIZE set) uses
the GPU of its local rank and joins the group: nccl on GPUs, gloo on the CPU.
`GroupStop` makes a stop request the whole group's at the same step, `shared_path`
gives every process rank 0's path, and `barrier` waits for the others.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.distributed as dist
from aijob_worker.signals import StopFlag


def torch_device() -> torch.device:
    """`cuda:<LOCAL_RANK>` (`cuda:0` outside torchrun) when CUDA is available, else `cpu`."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK') or 0)}")


def group_backend() -> str:
    """The collective backend of this machine: nccl with CUDA, else gloo."""
    return "nccl" if torch.cuda.is_available() else "gloo"


def join_group() -> tuple[int, int]:
    """This process's rank and the group's size: (0, 1) outside a group of processes."""
    world_size = int(os.environ.get("WORLD_SIZE") or 1)
    if world_size <= 1 or not os.environ.get("RANK"):
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(group_backend())
    return dist.get_rank(), dist.get_world_size()


def in_group() -> bool:
    """Whether this process belongs to a group of more than one."""
    return dist.is_initialized() and dist.get_world_size() > 1


def barrier() -> None:
    """Wait until every process of the group is here (nothing outside a group)."""
    if in_group():
        dist.barrier()


def shared_path(path: Path) -> Path:
    """Rank 0's `path` on every process (the processes of a pod share its file system)."""
    if not in_group():
        return path
    chosen: list[object] = [str(path)]
    dist.broadcast_object_list(chosen, src=0)
    return Path(str(chosen[0]))


class GroupStop(StopFlag):
    """A stop request the whole group sees at once: requested once any process's flag is.

    Every process must check it at the same points (once per step): in a group each
    check is a collective (a MAX all-reduce of one number), so that all processes stop
    after the same step and none waits in a gradient all-reduce for one that stopped.
    """

    def __init__(self, flag: StopFlag, device: torch.device) -> None:
        super().__init__()
        self._flag = flag
        self._device = device

    @property
    def requested(self) -> bool:
        """Whether this or any other process of the group was asked to stop."""
        if super().requested:
            return True
        if not in_group():
            wanted = self._flag.requested
        else:
            vote = torch.tensor([1.0 if self._flag.requested else 0.0], device=self._device)
            dist.all_reduce(vote, op=dist.ReduceOp.MAX)
            wanted = bool(vote.item())
        if wanted:
            self.request(self._flag.signal_name or "another process of the group")
        return wanted
