"""The kopf settings the operator runs with, and why each one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import kopf
from aijob_api.constants import GROUP

from aijob_operator.informer import PAGE_SIZE

WORKER_IDLE_SECONDS: Final = 1.0
"""How long kopf keeps an AIJob's worker (a task and its queue) once the AIJob has no more
events. A waiting worker still holds the last body it handled; with kopf's default (5 s)
a restart that relists 10,000 AIJobs at about 300 a second held some 1,500 bodies at once.
A worker that exits sooner costs a new task on the AIJob's next event: about 0.4 CPU-s more
per 100 lifecycles in the benchmark (docs/performance.md, the operator's memory)."""
API_ERROR_BACKOFFS: Final = (0.5, 1.0, 1.5) + (2.0,) * 150
"""Seconds between kopf's retries of a failed API request (its AIJob watch included): at
most 2 s, for about 5 minutes. kopf's default (1, 1, 2, 3, 5, 8, 13, 21) waited up to 21 s
between tries, so after a 30 s API server outage the AIJob watch came back 17 s after the
API server did (tests/integration/operator/test_api_server_outage.py), and after 54 s
without an answer the watch gave up (the operator stopped)."""


class NoDiffBaseStorage(kopf.DiffBaseStorage):
    """No diff-base: for an operator without change-detecting handlers.

    kopf builds an object's "essence" (a deep copy of spec, labels and annotations) on
    every watch event, to detect changes for on.create/on.update/on.field handlers.
    This operator registers none (it reconciles levels, not changes), and the copies
    were its largest CPU cost: an empty essence makes every event cheap.
    """

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        """An empty essence, without copying anything."""
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        """Nothing was ever stored."""
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        """Store nothing (so kopf never writes an annotation)."""


def configure(settings: kopf.OperatorSettings) -> None:
    """Tune kopf for a level-based operator that writes as little as it can."""
    # kopf watches AIJobs only; Jobs and Pods go through aijob_operator.informer.
    # Initial lists in small pages, so 10,000 objects never arrive as one response, and
    # the memory a restart needs stays close to what the objects need (PAGE_SIZE).
    settings.watching.chunk_size = PAGE_SIZE
    settings.queueing.idle_timeout = WORKER_IDLE_SECONDS
    # The operator posts one Event per status transition itself; kopf would also post
    # one per log line of a handler.
    settings.posting.enabled = False
    # No change-detecting handlers are registered (levels, not changes), so kopf stores no
    # handler progress or results; were one added, progress would go to status.kopf (in the
    # CRD), never under the handler's name, and NoDiffBaseStorage would have to go.
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = NoDiffBaseStorage()
    settings.persistence.finalizer = f"{GROUP}/operator"
    # The CRD is installed before the operator (Helm's crds/): no need to watch CRDs and
    # namespaces cluster-wide, which would also need cluster-wide RBAC.
    settings.scanning.disabled = True
    # An API server that went away: try again every 2 s at most, for minutes (see above).
    settings.networking.error_backoffs = API_ERROR_BACKOFFS
