"""Bodies of the /v1/jobs routes: submit, view, list and results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aijob_api.conditions import Phase
from aijob_api.constants import ANNOTATION_CLIENT_REQUEST_ID, ANNOTATION_DESCRIPTION
from aijob_api.models import AIJob, AIJobSpec, AIJobStatus, Results
from aijob_api.validation import DNS_LABEL_PATTERN, LabelKey, LabelValue
from pydantic import Field

from aijob_gateway.schemas.base import ApiModel

CLIENT_REQUEST_ID_PATTERN = r"^[\x21-\x7e]{1,128}$"
"""Printable ASCII without spaces, at most 128 characters."""


class SubmitJobRequest(ApiModel):
    """A job to submit: the AIJob spec, plus a few things of its metadata."""

    name: Annotated[
        str | None,
        Field(
            description="AIJob name; generated when left out (or derived from clientRequestId).",
            max_length=63,
            pattern=DNS_LABEL_PATTERN,
        ),
    ] = None
    client_request_id: Annotated[
        str | None,
        Field(
            description=(
                "Idempotency key (or the Idempotency-Key header): the same id and body return "
                "the same job; the same id with another body is a 409."
            ),
            pattern=CLIENT_REQUEST_ID_PATTERN,
        ),
    ] = None
    description: Annotated[
        str | None,
        Field(description="A human description, kept as an annotation.", max_length=1024),
    ] = None
    labels: Annotated[
        dict[LabelKey, LabelValue],
        Field(description="Labels of the AIJob (usable with the `label` filter).", max_length=32),
    ] = Field(default_factory=dict)
    spec: Annotated[AIJobSpec, Field(description="What to run (see `kubectl explain aijob.spec`).")]


class JobView(ApiModel):
    """One job: where it is, what it runs, and what is happening to it."""

    name: str
    namespace: str
    uid: str | None = None
    created_at: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    client_request_id: str | None = None
    spec: AIJobSpec
    status: AIJobStatus

    @classmethod
    def of(cls, job: AIJob, *, metric_history: bool = True) -> JobView:
        """The view of an AIJob (lists leave out `status.metricHistory`, the largest part:
        `GET /v1/jobs/{name}/metrics` serves it)."""
        metadata = job.metadata
        status = job.status
        if not metric_history and status.metric_history is not None:
            status = status.model_copy(update={"metric_history": None})
        return cls(
            name=metadata.name or "",
            namespace=metadata.namespace or "",
            uid=metadata.uid,
            created_at=metadata.creation_timestamp,
            labels=metadata.labels,
            description=metadata.annotations.get(ANNOTATION_DESCRIPTION),
            client_request_id=metadata.annotations.get(ANNOTATION_CLIENT_REQUEST_ID),
            spec=job.spec,
            status=status,
        )


class JobList(ApiModel):
    """A page of jobs, newest first."""

    items: list[JobView]
    total: Annotated[int, Field(description="Jobs matching the filters, over all pages.")]
    continue_: Annotated[
        str | None,
        Field(
            alias="continue",
            description="Opaque token for the next page (pass it as `continue`); null on the last.",
        ),
    ] = None


class ResultsView(ApiModel):
    """What a finished job produced."""

    name: str
    namespace: str
    phase: Phase | None
    message: str | None = None
    results: Results | None = None
    results_link: Annotated[
        str | None,
        Field(
            description="When the results were too large for the status (results.resultsUri): "
            "the gateway route that downloads them whole (GET /v1/jobs/{name}/artifacts/...)."
        ),
    ] = None
