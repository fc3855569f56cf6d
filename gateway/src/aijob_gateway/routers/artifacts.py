"""/v1/jobs/{name}/artifacts: list a job's artifacts, download one (streamed or by signed URL)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from aijob_gateway.dependencies import CallerDep
from aijob_gateway.problems import problem_responses
from aijob_gateway.routers.params import JobName
from aijob_gateway.routers.responses import ModelResponse
from aijob_gateway.schemas.artifacts import ArtifactList

router = APIRouter(
    prefix="/v1/jobs",
    tags=["jobs"],
    responses=problem_responses(401, 403, 404, 409, 422, 429, 502, 503),
)
CHECKSUM_HEADER = "X-Checksum-Sha256"
"""The SHA-256 (hex) the job's status recorded for a downloaded artifact, when it did."""


@router.get(
    "/{name}/artifacts",
    response_model=ArtifactList,
    summary="List a job's artifacts (path, size, last modified, recorded checksum)",
)
async def list_artifacts(name: JobName, caller: CallerDep) -> ModelResponse:
    """Every object below the job's artifact URI, read with the tenant's own credentials."""
    return ModelResponse(await caller.artifacts.list(caller.tenant, name))


@router.get(
    "/{name}/artifacts/{path:path}",
    response_class=StreamingResponse,
    summary="Download one artifact of a job (streamed), or be redirected to a signed URL",
    responses={
        200: {
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            "description": f"The object as stored, streamed; {CHECKSUM_HEADER} carries the "
            "SHA-256 the job's status recorded for it, when it recorded one.",
        },
        307: {"description": "With redirect=true: a signed URL of the store, valid minutes."},
        **problem_responses(400),
    },
)
async def download_artifact(
    name: JobName,
    path: str,
    caller: CallerDep,
    redirect: Annotated[
        bool,
        Query(
            description="Answer 307 to a short-lived signed URL of the object store instead "
            "of streaming through the gateway (the store must be reachable by the client)."
        ),
    ] = False,
) -> Response:
    """`path` is relative to the job's artifact URI, as the listing gives it; a path that
    could leave it (`..`, absolute, percent-encoded) is 400 naming `path`."""
    if redirect:
        url = await caller.artifacts.url(caller.tenant, name, path)
        return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    download = await caller.artifacts.open(caller.tenant, name, path)
    opened = download.opened
    filename = quote(path.rsplit("/", 1)[-1])
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"}
    if opened.size is not None:
        headers["Content-Length"] = str(opened.size)
    if opened.etag:
        headers["ETag"] = f'"{opened.etag}"'
    if download.sha256:
        headers[CHECKSUM_HEADER] = download.sha256
    return StreamingResponse(
        opened.chunks(),
        media_type=opened.content_type or "application/octet-stream",
        headers=headers,
    )
