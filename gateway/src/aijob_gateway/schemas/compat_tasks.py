"""Bodies of the routes compatible with seed 003's inference server (`/v1/tasks`, snake_case).

A task is submitted with `model`, `input`, `priority` and `client_request_id` (unknown
fields, such as its `callback_url`, are ignored) and answered `{"task_id", "status"}`;
its state is `{"task_id", "status", "timing": {"prepare_ms", "infer_ms", "upload_ms"},
"result"}` with Celery's words for the status.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aijob_api.priority import Priority
from pydantic import BaseModel, Field, JsonValue

from aijob_gateway.schemas.compat import SeedModel
from aijob_gateway.schemas.jobs import CLIENT_REQUEST_ID_PATTERN

TaskState = Literal["PENDING", "RUNNING", "SUCCESS", "FAILURE", "REVOKED"]
"""PENDING (waiting for its endpoint), RUNNING, SUCCESS, FAILURE, REVOKED (cancelled)."""


class TaskRequest(SeedModel):
    """POST /v1/tasks, as the seed took it."""

    model: Annotated[
        str,
        Field(
            description="An endpoint of the key's namespace: its name, or its spec.taskType.",
            min_length=1,
            max_length=63,
        ),
    ]
    input: Annotated[
        JsonValue,
        Field(
            description=(
                "One record (an object, a text, or a list of feature values), or a list of "
                "records (a list whose items are lists or objects)."
            )
        ),
    ]
    priority: Annotated[Priority, Field(description="high, normal or low.")] = Priority.NORMAL
    client_request_id: Annotated[
        str | None,
        Field(
            description="Idempotency key: the same id and body answer the same task_id.",
            pattern=CLIENT_REQUEST_ID_PATTERN,
        ),
    ] = None


class TaskAccepted(BaseModel):
    """The answer of POST /v1/tasks."""

    task_id: Annotated[str, Field(description="The AIJob's name.")]
    status: TaskState


class TaskTiming(BaseModel):
    """Milliseconds of each stage, summed over the records' chunks."""

    prepare_ms: float | None = None
    infer_ms: float | None = None
    upload_ms: Annotated[
        float | None,
        Field(description="Turning the outputs into results (the replicas' postprocess)."),
    ] = None


class TaskView(BaseModel):
    """GET /v1/tasks/{task_id}."""

    task_id: str
    status: TaskState
    timing: TaskTiming | None = None
    result: Annotated[
        JsonValue,
        Field(description="The output of one record, or the list of outputs of a list."),
    ] = None
    error: Annotated[str | None, Field(description="Why it failed or was revoked.")] = None
