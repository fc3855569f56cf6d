"""Body of GET /v1/jobs/{name}/artifacts: the objects below a job's artifact URI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from aijob_gateway.schemas.base import ApiModel


class ArtifactItem(ApiModel):
    """One object of the job's artifacts."""

    path: Annotated[
        str,
        Field(
            description="Its key relative to the job's artifact URI (`model/model.joblib`): "
            "what GET /v1/jobs/{name}/artifacts/{path} downloads."
        ),
    ]
    size_bytes: Annotated[int, Field(description="Its size in bytes.", ge=0)]
    last_modified: Annotated[
        datetime | None, Field(description="When the store last wrote it.")
    ] = None
    sha256: Annotated[
        str | None,
        Field(
            description="The SHA-256 the job's status recorded for it (status.results.artifacts), "
            "when it recorded one: what a download should hash to."
        ),
    ] = None
    name: Annotated[
        str | None, Field(description="Its name in status.results.artifacts (`model`...).")
    ] = None


class ArtifactList(ApiModel):
    """A job's artifacts, by path."""

    name: str
    namespace: str
    uri: Annotated[str, Field(description="The job's artifact URI: the paths are below it.")]
    items: list[ArtifactItem]
    truncated: Annotated[
        bool,
        Field(
            description="More objects are there than the gateway lists at once "
            "(its setting artifact_list_limit)."
        ),
    ] = False
