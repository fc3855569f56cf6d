"""A job's artifacts: listed, streamed, or handed out as a short-lived signed URL.

Scoped like every job route: the job is looked up in the caller's namespace first (another
tenant's job is 404 before the store is asked anything), and the store is read with the
caller's tenant's own credentials, below `s3://<tenant bucket>/jobs/<job>/` only. A path is
checked before it is joined to that prefix (`aijob_api.storage.artifact_path_problem`: no
`..`, no absolute path, no encoding tricks; 400 naming `path`). Each object is shown with
the SHA-256 the job's status recorded for it, when it recorded one.

In hostPath mode (single-tenant development) artifacts lie on a node's disk the gateway does
not mount: every route answers 409 saying artifacts are served from an object store only
(a 409, not a 5xx: nothing failed, the cluster is set up so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from aijob_api.models import AIJob
from aijob_api.storage import JOBS_PREFIX, TenantStore, artifact_path_problem

from aijob_gateway.errors import BadRequestError, ConflictError, NotFoundError
from aijob_gateway.kube.storage_secrets import StorageSecrets
from aijob_gateway.object_store import ObjectReader, OpenedObject, StoredObject
from aijob_gateway.schemas.artifacts import ArtifactItem, ArtifactList
from aijob_gateway.security.keys import Tenant
from aijob_gateway.services.jobs import JobService

ARTIFACTS_ROUTE: Final = "/v1/jobs/{name}/artifacts/{path}"
"""Where the gateway serves one artifact of a job."""


@dataclass(frozen=True)
class Recorded:
    """What the job's status says of one artifact."""

    name: str
    sha256: str | None


@dataclass(frozen=True)
class Download:
    """An artifact opened for streaming, with the checksum its job recorded."""

    path: str
    opened: OpenedObject
    sha256: str | None


def checked_path(path: str) -> str:
    """`path` when it names an object below a job's prefix; 400 naming `path` otherwise."""
    problem = artifact_path_problem(path)
    if problem is not None:
        raise BadRequestError(f"path: {path!r}: {problem}", field="path")
    return path


def relative_path(uri: str, job_uri: str) -> str | None:
    """`uri`'s path below the job's artifact URI, or None when it is not below it."""
    if not uri.startswith(job_uri) or len(uri) == len(job_uri):
        return None
    path = uri[len(job_uri) :]
    return path if artifact_path_problem(path) is None else None


def recorded(job: AIJob, job_uri: str) -> dict[str, Recorded]:
    """Every artifact the job's status names below its artifact URI, by path."""
    results = job.status.results
    found: dict[str, Recorded] = {}
    for artifact in results.artifacts if results is not None else ():
        path = relative_path(artifact.uri, job_uri)
        if path is not None:
            found[path] = Recorded(name=artifact.name, sha256=artifact.sha256)
    return found


def artifact_items(
    objects: Iterable[StoredObject], prefix: str, known: dict[str, Recorded]
) -> list[ArtifactItem]:
    """The listing's items: each object's key below `prefix`, with what the status recorded."""
    items: list[ArtifactItem] = []
    for stored in objects:
        if not stored.key.startswith(prefix):
            continue
        path = stored.key[len(prefix) :]
        entry = known.get(path)
        items.append(
            ArtifactItem(
                path=path,
                size_bytes=stored.size,
                last_modified=stored.last_modified,
                sha256=entry.sha256 if entry is not None else None,
                name=entry.name if entry is not None else None,
            )
        )
    return sorted(items, key=lambda item: item.path)


def download_link(job: AIJob, job_uri: str, uri: str | None) -> str | None:
    """The gateway route that downloads `uri`, when it is one of the job's artifacts."""
    path = relative_path(uri, job_uri) if uri else None
    if path is None:
        return None
    return ARTIFACTS_ROUTE.format(name=job.metadata.name, path=path)


class ArtifactService:
    """Artifacts of one tenant's jobs at a time."""

    def __init__(
        self,
        jobs: JobService,
        secrets: StorageSecrets,
        reader: ObjectReader,
        store: Callable[[str], TenantStore],
        *,
        list_limit: int,
        url_seconds: int,
    ) -> None:
        self._jobs = jobs
        self._secrets = secrets
        self._reader = reader
        self._store = store
        self._list_limit = list_limit
        self._url_seconds = url_seconds

    def close(self) -> None:
        """Close the connections to the object store."""
        self._reader.close()

    def link(self, tenant: Tenant, job: AIJob, uri: str | None) -> str | None:
        """The route that downloads `uri` when it is one of the job's artifacts and the
        gateway serves them (s3 mode)."""
        store = self._store(tenant.namespace)
        if store.scheme != "s3" or not job.metadata.name:
            return None
        return download_link(job, store.job_uri(job.metadata.name), uri)

    def _located(self, tenant: Tenant, name: str) -> tuple[AIJob, TenantStore, str]:
        job = self._jobs.get(tenant, name)  # another tenant's job: 404 here
        store = self._store(tenant.namespace)
        if store.scheme != "s3":
            raise ConflictError(
                "artifacts are served only from an object store: this cluster keeps them on a "
                f"node's disk (storage mode hostPath, {store.job_uri(name)}), which the gateway "
                "does not reach"
            )
        return job, store, f"{JOBS_PREFIX}/{name}/"

    async def list(self, tenant: Tenant, name: str) -> ArtifactList:
        """Every object below the job's prefix (up to the listing limit), by path."""
        job, store, prefix = self._located(tenant, name)
        credentials = await self._secrets.credentials(tenant.namespace)
        objects, truncated = await self._reader.list(
            credentials, store.root, prefix, self._list_limit
        )
        job_uri = store.job_uri(name)
        return ArtifactList(
            name=name,
            namespace=tenant.namespace,
            uri=job_uri,
            items=artifact_items(objects, prefix, recorded(job, job_uri)),
            truncated=truncated,
        )

    async def open(self, tenant: Tenant, name: str, path: str) -> Download:
        """The artifact `path` of the job, opened (404 naming `path` when it is absent)."""
        checked_path(path)
        job, store, prefix = self._located(tenant, name)
        credentials = await self._secrets.credentials(tenant.namespace)
        try:
            opened = await self._reader.open(credentials, store.root, prefix + path)
        except NotFoundError:
            raise self._absent(name, path) from None
        entry = recorded(job, store.job_uri(name)).get(path)
        return Download(path=path, opened=opened, sha256=entry.sha256 if entry else None)

    async def url(self, tenant: Tenant, name: str, path: str) -> str:
        """A URL of the store that reads the artifact for a few minutes (404 when absent)."""
        checked_path(path)
        _, store, prefix = self._located(tenant, name)
        credentials = await self._secrets.credentials(tenant.namespace)
        if not await self._reader.exists(credentials, store.root, prefix + path):
            raise self._absent(name, path)
        return self._reader.presign(credentials, store.root, prefix + path, self._url_seconds)

    @staticmethod
    def _absent(name: str, path: str) -> NotFoundError:
        return NotFoundError(f"path: job {name!r} has no artifact {path!r}", field="path")
