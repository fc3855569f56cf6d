"""/v1/nodes: GPU capacity, GPUs in use and the caller's jobs per node."""

from __future__ import annotations

from fastapi import APIRouter

from aijob_gateway.dependencies import CallerDep
from aijob_gateway.problems import problem_responses
from aijob_gateway.schemas.nodes import NodesView
from aijob_gateway.services.nodes import nodes_view

router = APIRouter(
    prefix="/v1/nodes", tags=["nodes"], responses=problem_responses(401, 403, 422, 429, 502, 503)
)


@router.get("", response_model=NodesView, summary="Nodes and their GPUs")
async def get_nodes(caller: CallerDep) -> NodesView:
    """Capacity and use of every node; only the caller's own jobs are named."""
    snapshot = await caller.runtime.cluster.snapshot()
    return nodes_view(snapshot, caller.tenant.namespace, caller.jobs.all(caller.tenant))
