"""The kopf settings the operator runs with, and why each one."""

from __future__ import annotations

from typing import Final

import kopf
from aijob_api.constants import GROUP, LABEL_JOB_NAME

JOB_SELECTOR: Final = ("batch", "v1", "jobs")
POD_SELECTOR: Final = ("v1", "pods")
WATCH_CHUNK_SIZE: Final = 500


def configure(settings: kopf.OperatorSettings) -> None:
    """Tune kopf for a level-based operator that writes as little as it can."""
    # Watch only the Jobs and Pods that belong to an AIJob, filtered by the API server:
    # a cluster-wide operator must not hold every pod of the cluster in memory.
    settings.watching.label_selectors[JOB_SELECTOR] = LABEL_JOB_NAME
    settings.watching.label_selectors[POD_SELECTOR] = LABEL_JOB_NAME
    # Initial lists in pages, so 10,000 objects never arrive as one response.
    settings.watching.chunk_size = WATCH_CHUNK_SIZE
    # The operator posts one Event per status transition itself; kopf would also post
    # one per log line of a handler.
    settings.posting.enabled = False
    # No change-detecting handlers are registered, so kopf stores nothing; should one be
    # added, its progress goes to status.kopf (declared in the CRD) and its diff-base to an
    # aijob.dev annotation, and no handler's result is ever written under its name.
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{GROUP}/operator"
    # The CRD is installed before the operator (Helm's crds/): no need to watch CRDs and
    # namespaces cluster-wide, which would also need cluster-wide RBAC.
    settings.scanning.disabled = True
