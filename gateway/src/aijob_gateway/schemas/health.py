"""Bodies of the health and readiness routes."""

from __future__ import annotations

from aijob_gateway.schemas.base import ApiModel


class Health(ApiModel):
    """Liveness: the process answers."""

    status: str


class Readiness(ApiModel):
    """Readiness and what it depends on."""

    status: str
    jobs_cache_synced: bool
    keys_synced: bool
    api_server: bool
