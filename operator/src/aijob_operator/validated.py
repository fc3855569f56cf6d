"""The validated model of each AIJob's latest body, kept for as long as that body is.

A reconcile starts from the AIJob's body in the store (compressed JSON) and validates it
into `AIJob`. One lifecycle is about 16 reconciles (every change of its Job, its pods and
its own status) over only 4 or 5 versions of the body, and decoding plus validating the
same version again and again was about a tenth of the operator's CPU per lifecycle
(profiled, docs/performance.md). A resourceVersion names one version of one object, so the
model validated from it stays right until the version changes. Bounded (least recently
used first out), so 10,000 AIJobs do not mean 10,000 models in memory; a deleted AIJob's
model is never used again (its key, or its version, changes) and leaves that way too.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from aijob_api.models import AIJob

from aijob_operator.store import Key

CAPACITY: Final = 1024
"""Models kept: the AIJobs being worked on at once, with room (each is a few kB)."""


class ValidatedAIJobs:
    """AIJob models by key, each valid for one resourceVersion of its body."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._capacity = capacity
        self._entries: OrderedDict[Key, tuple[str, AIJob]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key, version: str | None) -> AIJob | None:
        """The model validated from this version of the body, or None (not kept, or older)."""
        entry = self._entries.get(key)
        if entry is None or not version or entry[0] != version:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Key, aijob: AIJob) -> AIJob:
        """Keep a model validated from the body of its resourceVersion; return it.

        A model without a version (a body that had none) is not kept."""
        version = aijob.metadata.resource_version
        if version:
            self._entries[key] = (version, aijob)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return aijob
