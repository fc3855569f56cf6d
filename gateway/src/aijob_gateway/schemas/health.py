"""Bodies of the health and readiness routes."""

from __future__ import annotations

from pydantic import Field

from aijob_gateway.schemas.base import ApiModel


class Health(ApiModel):
    """Liveness: the process answers."""

    status: str


class Readiness(ApiModel):
    """Readiness and what it depends on."""

    status: str
    jobs_cache_synced: bool
    keys_synced: bool
    keys_usable: bool = Field(
        description="Key checks answer from the key Secret (false: they answer 503, fail closed)."
    )
    api_server: bool
    reasons: list[str] = Field(default_factory=list, description="Why it is not ready.")
