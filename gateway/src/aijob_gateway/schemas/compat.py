"""Bodies of the routes compatible with the seed FastAPI + Redis job queue (snake_case, as it had).

Requests accept exactly what the seed accepted (unknown fields are ignored, as the
seed's models did) plus `client_request_id`; responses have the seed's `JobStatus`
shape with its lowercase status vocabulary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aijob_api.models import MAX_INLINE_RECORDS
from pydantic import BaseModel, ConfigDict, Field

from aijob_gateway.schemas.jobs import CLIENT_REQUEST_ID_PATTERN

MAX_INPUT_CHARS = 65536
"""A single inline input larger than this belongs in a file."""

SeedStatus = Literal["pending", "running", "completed", "failed", "cancelled"]


class SeedModel(BaseModel):
    """Base of the seed-shaped models: snake_case, unknown request fields ignored."""

    model_config = ConfigDict(extra="ignore")


class SeedTrainingRequest(SeedModel):
    """POST /jobs/training, as the seed accepted it."""

    model_type: Annotated[
        str,
        Field(
            description="Model type (bert, resnet, random_forest, ...).",
            min_length=1,
            max_length=63,
        ),
    ]
    data_path: Annotated[
        str,
        Field(
            description=(
                "Training data: a bundled data set's name (iris, digits, wine, breast_cancer, "
                "sentiment), a CSV file in the namespace's store "
                "(/var/lib/aijob/artifacts/<namespace>/..., or as a file:// URI), or an s3:// "
                "URI. Any other path is refused (422): the job's pod could not read it."
            ),
            min_length=1,
            max_length=2000,
        ),
    ]
    hyperparameters: Annotated[
        dict[str, Any] | None, Field(description="Passed to the trainer.")
    ] = None
    description: Annotated[str | None, Field(max_length=1024)] = None
    requires_gpu: Annotated[bool | None, Field(description="true asks for one GPU.")] = False
    framework_override: Annotated[
        str | None,
        Field(
            description="sklearn, pytorch, tensorflow or transformers, optionally with the seed's "
            "version and -gpu suffixes (e.g. pytorch-2.1-gpu).",
            max_length=63,
        ),
    ] = None
    client_request_id: Annotated[
        str | None, Field(description="Idempotency key.", pattern=CLIENT_REQUEST_ID_PATTERN)
    ] = None


class SeedInferenceRequest(SeedModel):
    """POST /jobs/inference, as the seed accepted it."""

    model_id: Annotated[
        str,
        Field(
            description="The training job whose model to use (its job_id), or a model URI.",
            min_length=1,
            max_length=2000,
        ),
    ]
    input_data: Annotated[
        Annotated[str, Field(max_length=MAX_INPUT_CHARS)]
        | Annotated[list[Any], Field(min_length=1, max_length=MAX_INLINE_RECORDS)],
        Field(description="One input (a string) or a list of records."),
    ]
    parameters: Annotated[dict[str, Any] | None, Field(description="Inference parameters.")] = None
    model_type: Annotated[
        str | None,
        Field(
            description="Model type; taken from the training job when model_id names one.",
            max_length=63,
        ),
    ] = None
    client_request_id: Annotated[
        str | None, Field(description="Idempotency key.", pattern=CLIENT_REQUEST_ID_PATTERN)
    ] = None

    def records(self) -> list[Any]:
        """The inference records: the one string, or the list given."""
        if isinstance(self.input_data, list):
            return list(self.input_data)
        return [self.input_data]


class SeedJobStatus(BaseModel):
    """A job in the seed's JobStatus shape."""

    job_id: str
    job_type: str
    status: SeedStatus
    created_at: datetime
    updated_at: datetime
    progress: Annotated[float | None, Field(description="Fraction done, 0 to 1.")] = None
    result: dict[str, Any] | None = None
    error: str | None = None
    metadata: dict[str, Any] | None = None
    framework: str | None = None
    worker_type: str | None = None


class SeedHealth(BaseModel):
    """GET /health, as the seed answered it (Kubernetes in Redis's place)."""

    status: Literal["healthy"]
    kubernetes: Literal["connected"]
