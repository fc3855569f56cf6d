"""The watch-backed, in-memory cache of AIJobs that serves every read of the gateway.

An `ObjectCache` of AIJobs (see `object_cache`): indexed by namespace first, so the
cache cannot hand one tenant another tenant's job; objects that do not parse with
the shared models are left out (and counted).
"""

from __future__ import annotations

from collections.abc import Callable

from aijob_api.constants import KIND
from aijob_api.models import AIJob

from aijob_gateway.kube.object_cache import ObjectCache, newest_first_key

__all__ = ["JobCache", "newest_first_key"]


class JobCache(ObjectCache[AIJob]):
    """AIJobs by namespace and name, kept current by a reflector."""

    def __init__(self, on_invalid: Callable[[], None] | None = None) -> None:
        super().__init__(AIJob.model_validate, KIND, on_invalid)
