"""The compute resources and the retries of an AIJob's worker (re-exported by `aijob_api.spec`)."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

from aijob_api.validation import QUANTITY_PATTERN
from aijob_api.wire import WireModel

MAX_GPUS: Final = 64
"""Upper bound on GPUs one job may ask for (a sane ceiling for one pod)."""
MAX_RETRIES: Final = 10
DEFAULT_MAX_RETRIES: Final = 2


class ResourceSpec(WireModel):
    """Compute resources of the worker pod."""

    gpu: Annotated[
        int,
        Field(description="Number of nvidia.com/gpu to request.", ge=0, le=MAX_GPUS),
    ] = 0
    cpu: Annotated[
        str | None,
        Field(
            description="CPU request and limit as a Kubernetes quantity (e.g. 500m, 2).",
            max_length=32,
            pattern=QUANTITY_PATTERN,
        ),
    ] = None
    memory: Annotated[
        str | None,
        Field(
            description="Memory request and limit as a Kubernetes quantity (e.g. 512Mi, 4Gi).",
            max_length=32,
            pattern=QUANTITY_PATTERN,
        ),
    ] = None


class RetryPolicy(WireModel):
    """How often a failed attempt is retried (bad input never is)."""

    max_retries: Annotated[
        int,
        Field(
            description="Attempts after the first one; becomes the Job's backoffLimit.",
            ge=0,
            le=MAX_RETRIES,
        ),
    ] = DEFAULT_MAX_RETRIES
