"""/v1/queue/stats: the tenant's queue depth, running jobs and waiting reasons."""

from __future__ import annotations

from fastapi import APIRouter

from aijob_gateway.dependencies import CallerDep
from aijob_gateway.problems import problem_responses
from aijob_gateway.schemas.queue import QueueStats
from aijob_gateway.services.queue import queue_stats

router = APIRouter(
    prefix="/v1/queue", tags=["queue"], responses=problem_responses(401, 403, 422, 429, 503)
)


@router.get("/stats", response_model=QueueStats, summary="Queue statistics of the key's namespace")
async def get_queue_stats(caller: CallerDep) -> QueueStats:
    """Depth by priority and framework, running jobs, and why the waiting ones wait."""
    return queue_stats(caller.tenant.namespace, caller.jobs.all(caller.tenant))
