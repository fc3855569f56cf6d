"""Body of the nodes/GPU route."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from aijob_gateway.schemas.base import ApiModel


class NodeView(ApiModel):
    """One node: its GPUs, how many are in use, and the caller's jobs on it."""

    name: str
    gpu_node: Annotated[bool, Field(description="Whether the node offers nvidia.com/gpu.")]
    gpu_capacity: int
    gpu_allocatable: int
    gpu_in_use: Annotated[int, Field(description="GPUs requested by running or pending pods.")]
    gpu_free: int
    cpu_allocatable: str | None = None
    memory_allocatable: str | None = None
    ready: bool
    schedulable: bool
    taints: list[str]
    pods: Annotated[int, Field(description="Unfinished pods on the node (all tenants).")]
    jobs: Annotated[list[str], Field(description="The caller's AIJobs with a pod on the node.")]


class NodesView(ApiModel):
    """Every node, with totals."""

    nodes: list[NodeView]
    gpu_capacity: int
    gpu_allocatable: int
    gpu_in_use: int
    gpu_free: int
