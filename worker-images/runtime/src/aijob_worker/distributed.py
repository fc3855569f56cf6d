"""Distributed and multi-process jobs: the group the operator describes, and each rank.

The operator sets `AIJOB_NODES` and `AIJOB_PROCESSES_PER_NODE` on every pod of a job with
`spec.distributed` (and, with more than one node, `AIJOB_MASTER_ADDR`, `AIJOB_MASTER_PORT`,
`AIJOB_WORKER_HOSTS` and Kubernetes' `JOB_COMPLETION_INDEX`, the pod's node rank):
`GroupSetup.from_env` reads them (None without them, or for one node of one process:
today's single process). A PyTorch pod starts its processes with torchrun
(`torchrun_arguments`, run by `aijob_worker.launch`); a TensorFlow pod runs one process
with `TF_CONFIG` composed from the worker hosts (`tf_config`). Each process then knows its
`Rank`: torchrun's RANK/WORLD_SIZE/LOCAL_RANK in a process it started, else the node rank.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aijob_api import contract
from aijob_api.status import MAX_STATUS_RANKS, AIJobStatus

from aijob_worker.errors import BadInputError
from aijob_worker.status import StatusWriter

ENV_RANK_DIR: Final = "AIJOB_RANK_DIR"
"""Set by the launcher for the processes torchrun starts: where each writes its failure
message (`rank-<RANK>`), which the launcher hands on as the pod's termination message."""
ENV_TF_CONFIG: Final = "TF_CONFIG"
ENV_GLOO_SOCKET_IFNAME: Final = "GLOO_SOCKET_IFNAME"
POD_INTERFACE: Final = "eth0"
"""The pod's network interface, which gloo is pointed at unless told otherwise."""
LOCAL_MASTER_ADDR: Final = "127.0.0.1"
"""Node rank 0 reaches its own rendezvous here, not through its own Service."""
RANK_WRITES_PER_INTERVAL: Final = 8
"""Per-rank status writes of a whole group stay near this many per progress interval."""


@dataclass(frozen=True)
class GroupSetup:
    """The job's group as the operator described it to this pod."""

    nodes: int
    processes_per_node: int
    node_rank: int = 0
    master_addr: str = LOCAL_MASTER_ADDR
    master_port: int = contract.RENDEZVOUS_PORT
    worker_hosts: tuple[str, ...] = ()

    @property
    def world_size(self) -> int:
        """Processes in the whole group."""
        return self.nodes * self.processes_per_node

    @property
    def rendezvous_addr(self) -> str:
        """Where this pod's torchrun meets the others: its own loopback on node rank 0."""
        return LOCAL_MASTER_ADDR if self.node_rank == 0 else self.master_addr

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GroupSetup | None:
        """The group, or None for a single process (the variables absent, or 1 and 1)."""
        raw_nodes = env.get(contract.ENV_NODES)
        raw_processes = env.get(contract.ENV_PROCESSES_PER_NODE)
        if not raw_nodes and not raw_processes:
            return None
        nodes = _count(env, contract.ENV_NODES)
        processes = _count(env, contract.ENV_PROCESSES_PER_NODE)
        if nodes == 1 and processes == 1:
            return None
        if nodes == 1:
            return cls(nodes=1, processes_per_node=processes)
        node_rank = _integer(env, contract.ENV_NODE_RANK, minimum=0)
        if node_rank >= nodes:
            raise BadInputError(
                contract.ENV_NODE_RANK,
                f"{node_rank} is not a node rank of a group of {nodes} ({contract.ENV_NODES})",
            )
        master_addr = env.get(contract.ENV_MASTER_ADDR, "").strip()
        if not master_addr:
            raise BadInputError(contract.ENV_MASTER_ADDR, f"is not set for {nodes} nodes")
        hosts = tuple(host.strip() for host in env.get(contract.ENV_WORKER_HOSTS, "").split(","))
        if len(hosts) != nodes or not all(_is_host_port(host) for host in hosts):
            raise BadInputError(
                contract.ENV_WORKER_HOSTS,
                f"needs {nodes} comma-separated host:port entries, one per node; "
                f"got {env.get(contract.ENV_WORKER_HOSTS, '')!r}",
            )
        return cls(
            nodes=nodes,
            processes_per_node=processes,
            node_rank=node_rank,
            master_addr=master_addr,
            master_port=(
                _integer(env, contract.ENV_MASTER_PORT, minimum=1)
                if env.get(contract.ENV_MASTER_PORT)
                else contract.RENDEZVOUS_PORT
            ),
            worker_hosts=hosts,
        )


@dataclass(frozen=True)
class Rank:
    """One process of a job: its global rank, the group's size, its rank within its pod."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Global rank 0: the process that writes progress, checkpoints, the model, results."""
        return self.rank == 0

    @classmethod
    def from_env(cls, env: Mapping[str, str], group: GroupSetup | None) -> Rank:
        """torchrun's variables in a process the launcher started; else the node rank."""
        if env.get(ENV_RANK_DIR) and env.get("RANK") is not None:
            rank = _integer(env, "RANK", minimum=0)
            world_size = _integer(env, "WORLD_SIZE", minimum=1)
            return cls(rank, world_size, _integer(env, "LOCAL_RANK", minimum=0))
        if group is not None and group.nodes > 1:
            return cls(group.node_rank, group.nodes, 0)
        return cls()


def torchrun_arguments(group: GroupSetup, module: str = "aijob_worker") -> list[str]:
    """torchrun's command line (static rendezvous) running `python -m <module>` per process."""
    return [
        "--nnodes",
        str(group.nodes),
        "--node-rank",
        str(group.node_rank),
        "--nproc-per-node",
        str(group.processes_per_node),
        "--master-addr",
        group.rendezvous_addr,
        "--master-port",
        str(group.master_port),
        "--max-restarts",
        "0",
        "--module",
        module,
    ]


def tf_config(group: GroupSetup) -> dict[str, Any]:
    """TensorFlow's cluster description for MultiWorkerMirroredStrategy: this pod's task."""
    return {
        "cluster": {"worker": list(group.worker_hosts)},
        "task": {"type": "worker", "index": group.node_rank},
    }


def group_environment(
    group: GroupSetup,
    env: Mapping[str, str],
    *,
    framework: str,
    interface_exists: Callable[[str], bool] | None = None,
) -> dict[str, str]:
    """Variables to add before the training starts: gloo's interface, TF_CONFIG."""
    exists = interface_exists or (lambda name: Path("/sys/class/net", name).exists())
    added: dict[str, str] = {}
    if not env.get(ENV_GLOO_SOCKET_IFNAME) and exists(POD_INTERFACE):
        added[ENV_GLOO_SOCKET_IFNAME] = POD_INTERFACE
    if framework == "tensorflow" and group.nodes > 1:
        added[ENV_TF_CONFIG] = json.dumps(tf_config(group), separators=(",", ":"))
    return added


def rank_progress_interval(interval: float, rank: Rank) -> float:
    """How often a rank other than 0 writes its progress: the group's writes stay bounded."""
    if rank.is_main:
        return interval
    return interval * max(1.0, rank.world_size / RANK_WRITES_PER_INTERVAL)


RANKS_FIELD: Final = "ranks"
PROGRESS_FIELD: Final = "progress"


class RankStatusWriter:
    """A process of a distributed job writes its progress under `status.ranks.<rank>`.

    Rank 0 writes everything a single process writes (progress, metric history,
    checkpoint, results) plus its own entry, in the same request; every other rank writes
    only its entry (its checkpoint, model and results are rank 0's to write), and none
    beyond `MAX_STATUS_RANKS`.
    """

    def __init__(self, inner: StatusWriter, rank: Rank) -> None:
        self._inner = inner
        self._rank = rank

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        """Pass on what this rank writes; nothing at all when that is nothing."""
        progress = patch.get(PROGRESS_FIELD)
        entry: dict[str, Any] = {}
        if progress is not None and self._rank.rank < MAX_STATUS_RANKS:
            entry[RANKS_FIELD] = {str(self._rank.rank): progress}
        body = {**patch, **entry} if self._rank.is_main else entry
        if body:
            self._inner.patch_status(body)

    def read_status(self) -> AIJobStatus:
        """The job's status (every rank resumes from rank 0's checkpoint)."""
        return self._inner.read_status()


def _count(env: Mapping[str, str], name: str) -> int:
    return _integer(env, name, minimum=1)


def _integer(env: Mapping[str, str], name: str, *, minimum: int) -> int:
    raw = env.get(name, "")
    try:
        value = int(raw)
    except ValueError as error:
        raise BadInputError(name, f"{raw!r} is not a whole number") from error
    if value < minimum:
        raise BadInputError(name, f"{value} is below {minimum}")
    return value


def _is_host_port(entry: str) -> bool:
    host, _, port = entry.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536
