"""A job's artifacts deleted from its tenant's store when the AIJob goes (deleted, or its TTL).

Who holds which credential: the operator holds no S3 credential of its own. To delete, it
reads the tenant's Secret `aijob-storage` (its RBAC allows `get` on Secrets of that one
name) and deletes the objects below `s3://<tenant bucket>/jobs/<job>/` with the tenant's
own credentials, whose policy reaches that bucket only: a mistake here cannot touch
another tenant's data. The S3 root credentials stay with the admin
(`python -m aijob_operator.tenants`).

Kept: artifacts of an AIJob annotated `aijob.dev/keep-artifacts: "true"`, and those of a
name re-created before the deletion ran. hostPath mode deletes nothing (the operator
mounts no node directory). A failure is logged and given up: the objects stay, the
AIJob is gone either way.

The results of a job on an endpoint (a seed-003 task), which the operator itself gathers
from the warm replicas, are written the same way (`ResultWriter`): with the tenant's own
credentials, to `s3://<tenant bucket>/jobs/<job>/results/<job>.json`, where the gateway's
artifact routes read them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from aijob_api.status import Artifact
from aijob_api.storage import (
    JOBS_PREFIX,
    KEEP_ARTIFACTS_ANNOTATION,
    SECRET_ACCESS_KEY,
    SECRET_SECRET_KEY,
    STORAGE_SECRET,
)

from aijob_operator.builders.pod import PodSettings
from aijob_operator.kube import KubeApi

if TYPE_CHECKING:
    from minio import Minio

logger = logging.getLogger(__name__)

AWS_ENDPOINT: Final = "https://s3.amazonaws.com"
"""The S3 API when no endpoint is configured (AWS itself)."""


@dataclass(frozen=True)
class S3Credentials:
    """An access key pair (a tenant's, or the admin's)."""

    access_key: str
    secret_key: str


def s3_client(endpoint: str, region: str, credentials: S3Credentials) -> Minio:
    """An S3 client for `endpoint` (http or https URL; empty for AWS), with short timeouts."""
    # Imported on first use: more than half a CPU-second of the operator's start (minio
    # with its crypto, urllib3), spent only where a store is configured.
    from minio import Minio
    from urllib3 import PoolManager, Retry, Timeout

    parsed = urlsplit(endpoint or AWS_ENDPOINT)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{endpoint!r} is not an http(s) URL of an S3 API")
    http = PoolManager(
        timeout=Timeout(connect=5, read=30),
        retries=Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
    return Minio(
        parsed.netloc,
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        secure=parsed.scheme == "https",
        region=region or None,
        http_client=http,
    )


def delete_prefix(client: Minio, bucket: str, prefix: str) -> int:
    """Delete every object below `prefix` in `bucket`; the number deleted."""
    from minio.deleteobjects import DeleteObject

    names = [
        DeleteObject(item.object_name)
        for item in client.list_objects(bucket, prefix=prefix, recursive=True)
        if item.object_name
    ]
    errors = list(client.remove_objects(bucket, names)) if names else []
    if errors:
        raise OSError(f"{len(errors)} objects not deleted, first: {errors[0].message}")
    return len(names)


def secret_credentials(secret: dict[str, Any]) -> S3Credentials | None:
    """The access key pair in a storage Secret's data, or None when a key is missing."""
    data = secret.get("data") or {}
    try:
        return S3Credentials(
            base64.b64decode(data[SECRET_ACCESS_KEY]).decode(),
            base64.b64decode(data[SECRET_SECRET_KEY]).decode(),
        )
    except (KeyError, ValueError):
        return None


class ArtifactJanitor:
    """Deletes the artifacts of deleted AIJobs in the background (s3 mode)."""

    def __init__(
        self, api: KubeApi, settings: PodSettings, exists: Callable[[str, str], bool]
    ) -> None:
        self._api = api
        self._settings = settings
        self._exists = exists
        self._tasks: set[asyncio.Task[int | None]] = set()

    def job_deleted(self, body: dict[str, Any]) -> asyncio.Task[int | None] | None:
        """Start deleting the artifacts of a deleted AIJob; None when they are kept."""
        metadata = body.get("metadata") or {}
        annotations = metadata.get("annotations") or {}
        if self._settings.mounts_artifacts or annotations.get(KEEP_ARTIFACTS_ANNOTATION) == "true":
            return None
        task = asyncio.create_task(self.delete(metadata["namespace"], metadata["name"]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def delete(self, namespace: str, name: str) -> int | None:
        """Delete the objects of job `name`; their number, or None when nothing could be."""
        if self._exists(namespace, name):
            logger.info("%s/%s was re-created: its artifacts are kept", namespace, name)
            return None
        secret = await self._api.get_secret(namespace, STORAGE_SECRET)
        credentials = secret_credentials(secret) if secret is not None else None
        if credentials is None:
            logger.warning(
                "%s/%s: artifacts not deleted: no Secret %s with %s and %s in the namespace",
                *(namespace, name, STORAGE_SECRET, SECRET_ACCESS_KEY, SECRET_SECRET_KEY),
            )
            return None
        settings = self._settings
        store = settings.store(namespace)
        prefix = f"{JOBS_PREFIX}/{name}/"
        try:
            client = s3_client(settings.s3_endpoint, settings.s3_region, credentials)
            count = await asyncio.to_thread(delete_prefix, client, store.root, prefix)
        except Exception as error:  # any store failure is logged, not retried
            logger.warning("%s/%s: artifacts at %s not deleted: %s", namespace, name, prefix, error)
            return None
        logger.info(
            "%s/%s: %d artifacts deleted from %s%s", namespace, name, count, store.uri, prefix
        )
        return count


RESULTS_DIR: Final = "results"
"""Below a job's artifact URI: the results the operator gathered for a job on an endpoint."""


def results_key(job: str) -> str:
    """The key of a job on an endpoint's results in its tenant's bucket."""
    return f"{JOBS_PREFIX}/{job}/{RESULTS_DIR}/{job}.json"


def results_document(job: str, outputs: Sequence[Any]) -> bytes:
    """What the results file holds: the task's id and its outputs, in the records' order."""
    return json.dumps({"task_id": job, "outputs": list(outputs)}, separators=(",", ":")).encode()


class ResultsNotStoredError(Exception):
    """The results could not be written to the tenant's store (the reason, in words)."""


class ResultWriter:
    """Writes the results of jobs on endpoints to their tenant's store (s3 mode)."""

    def __init__(self, api: KubeApi, settings: PodSettings) -> None:
        self._api = api
        self._settings = settings

    async def write(self, namespace: str, job: str, outputs: Sequence[Any]) -> Artifact | None:
        """Store the outputs of job `job`; the artifact written, or None in hostPath mode
        (nothing is stored: the outputs stay in the status). ResultsNotStoredError when the
        tenant has no credentials or its store refuses the write."""
        settings = self._settings
        if settings.mounts_artifacts:
            return None
        secret = await self._api.get_secret(namespace, STORAGE_SECRET)
        credentials = secret_credentials(secret) if secret is not None else None
        if credentials is None:
            raise ResultsNotStoredError(
                f"namespace {namespace} has no Secret {STORAGE_SECRET} with "
                f"{SECRET_ACCESS_KEY} and {SECRET_SECRET_KEY}"
            )
        store = settings.store(namespace)
        key = results_key(job)
        data = results_document(job, outputs)
        try:
            client = s3_client(settings.s3_endpoint, settings.s3_region, credentials)
            await asyncio.to_thread(
                client.put_object,
                store.root,
                key,
                io.BytesIO(data),
                len(data),
                content_type="application/json",
            )
        except Exception as error:  # any store failure is the run's to report
            raise ResultsNotStoredError(f"writing {store.uri}{key}: {error}") from error
        return Artifact(
            name=f"{RESULTS_DIR}/{job}.json",
            uri=f"{store.uri}{key}",
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
        )
