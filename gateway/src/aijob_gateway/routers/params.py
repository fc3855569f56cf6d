"""Path, query and header parameters shared by several routers."""

from __future__ import annotations

from typing import Annotated

from aijob_api.constants import ENDPOINT_MAX_NAME_LENGTH
from aijob_api.validation import DNS_1035_LABEL_PATTERN
from fastapi import Header, Path

from aijob_gateway.errors import InvalidRequestError
from aijob_gateway.schemas.jobs import CLIENT_REQUEST_ID_PATTERN

JOB_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"

JobName = Annotated[
    str,
    Path(description="Name of the job (its AIJob).", max_length=253, pattern=JOB_NAME_PATTERN),
]
EndpointName = Annotated[
    str,
    Path(
        description="Name of the endpoint (its AIEndpoint).",
        max_length=ENDPOINT_MAX_NAME_LENGTH,
        pattern=DNS_1035_LABEL_PATTERN,
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Idempotency key of a submission (same as clientRequestId).",
        pattern=CLIENT_REQUEST_ID_PATTERN,
    ),
]
ClientRequestIdHeader = Annotated[
    str | None,
    Header(
        alias="X-Client-Request-ID",
        description="Another name of the Idempotency-Key header.",
        pattern=CLIENT_REQUEST_ID_PATTERN,
    ),
]


def client_request_id(*candidates: tuple[str, str | None]) -> str | None:
    """The one client request id given in headers or body (422 when they disagree)."""
    given = [(source, value) for source, value in candidates if value is not None]
    if len({value for _, value in given}) > 1:
        sources = " and ".join(source for source, _ in given)
        raise InvalidRequestError(
            f"clientRequestId: {sources} give different client request ids; send one",
            field="clientRequestId",
        )
    return given[0][1] if given else None
