"""Where status writes go: the AIJob's status subresource, or a file for offline runs.

The worker owns its share of the status (`progress`, `results`, `checkpoint`,
`metricHistory`, `ranks`; the operator owns phase, conditions and the message). A write
names some of those parts and replaces each one whole, except `ranks`, whose entries
are written one by one (`aijob_api.status_patch`, the operator's rule too). Into an AIJob
it is a JSON patch whose first operation tests `/metadata/uid`: the API server applies
none of it when the AIJob was deleted and re-created under the same name, so a
worker of the old one cannot write into the new one (a merge patch's
`metadata.uid` is ignored on the status subresource).

Every failure is classified: retryable (the API server is briefly unreachable,
overloaded, or asks to wait), refused (a 4xx that the same write cannot get
past, such as 400, 403 or 422: reported at once with the API server's own
message), or permanent (the AIJob is gone or was re-created: no later write
can land either).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx2 as httpx
from aijob_api.models import AIJobStatus
from aijob_api.status_patch import merge_status_parts, status_patch_for, status_patch_operations
from aijob_kube.resources import AIJobResource
from lightkube import ApiError, Client
from lightkube.generic_resource import GenericNamespacedResource
from lightkube.types import PatchType

logger = logging.getLogger(__name__)

FIELD_MANAGER = "aijob-worker"
REQUEST_TIMEOUT_SECONDS = 10.0

_PERMANENT_CODES = frozenset({404, 409, 410})
"""Gone (404, 410) or in conflict with what the AIJob has become (409)."""
_RETRYABLE_CLIENT_CODES = frozenset({401, 408, 425, 429})
"""The 4xx that may pass later: a token being rotated, a timeout, "too early", "too many"."""


class StatusWriteError(Exception):
    """A status write failed; `retryable` says whether trying again may succeed."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        permanent: bool = False,
        code: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.permanent = permanent
        """No later write can succeed either (the AIJob is gone or replaced)."""
        self.code = code
        """The API server's HTTP status code (0: no answer)."""
        self.retry_after = retry_after
        """Seconds the server asked to wait before the next try (`Retry-After`), if it did."""

    @property
    def refused(self) -> bool:
        """The API server refused this write; sending it again cannot help (later ones may)."""
        return not self.retryable and not self.permanent


class StatusWriter(Protocol):
    """Writes parts of the job's status (each replaced whole) and reads the status back."""

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        """Replace each part of the status `patch` names; raise StatusWriteError on failure."""

    def read_status(self) -> AIJobStatus:
        """The status as it is now (for resuming from a checkpoint)."""


class KubeStatusWriter:
    """Patches the AIJob's status subresource through the API server."""

    def __init__(self, client: Client, *, namespace: str, name: str, uid: str | None) -> None:
        self._client = client
        self._namespace = namespace
        self._name = name
        self._uid = uid

    @classmethod
    def from_environment(cls, *, namespace: str, name: str, uid: str | None) -> KubeStatusWriter:
        """In a pod: the service account's credentials; outside one: the kubeconfig."""
        client = Client(field_manager=FIELD_MANAGER, timeout=httpx.Timeout(REQUEST_TIMEOUT_SECONDS))
        return cls(client, namespace=namespace, name=name, uid=uid)

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        """Replace the named parts of the status, only if the AIJob still has our UID.

        A JSON patch that does not apply (a test failed, or there is no status to add
        to) gets a bare 422 from the API server; one read then tells why: another UID
        is permanent, no status yet means adding it whole, anything else one more try.
        """
        operations = status_patch_operations(patch, uid=self._uid)
        try:
            self._send(operations)
            return
        except ApiError as error:
            if not patch_did_not_apply(error):
                raise classify_api_error(error) from error
        except httpx.HTTPError as error:
            raise StatusWriteError(f"API server unreachable: {error}", retryable=True) from error
        retry = status_patch_for(patch, uid=self._uid, status=self._get().get("status"))
        try:
            self._send(retry)
        except ApiError as error:
            if patch_did_not_apply(error):  # the status appeared in between: try again later
                raise StatusWriteError(
                    "the status changed while it was written", retryable=True, code=422
                ) from error
            raise classify_api_error(error) from error
        except httpx.HTTPError as error:
            raise StatusWriteError(f"API server unreachable: {error}", retryable=True) from error

    def read_status(self) -> AIJobStatus:
        """Get the AIJob and parse its status (an empty status when it has none)."""
        return AIJobStatus.model_validate(self._get().get("status") or {})

    def read_other_status(self, name: str) -> AIJobStatus:
        """The status of another AIJob in the same namespace (a training job to infer with)."""
        try:
            job = self._client.get(AIJobResource, name, namespace=self._namespace)
        except ApiError as error:
            raise classify_api_error(error) from error
        return AIJobStatus.model_validate(job.get("status") or {})

    def _send(self, operations: list[dict[str, Any]]) -> None:
        self._client.patch(
            AIJobResource.Status,
            self._name,
            operations,
            namespace=self._namespace,
            patch_type=PatchType.JSON,
        )

    def _get(self) -> GenericNamespacedResource:
        """This worker's AIJob; a permanent error when it is gone or is another one now."""
        try:
            job = self._client.get(AIJobResource, self._name, namespace=self._namespace)
        except ApiError as error:
            raise classify_api_error(error) from error
        except httpx.HTTPError as error:
            raise StatusWriteError(f"API server unreachable: {error}", retryable=True) from error
        found = job.metadata.uid if job.metadata is not None else None
        if self._uid and found != self._uid:
            raise StatusWriteError(
                f"AIJob {self._namespace}/{self._name} was re-created (uid {found}, this "
                f"worker's {self._uid}): the API server refused the write",
                retryable=False,
                permanent=True,
                code=422,
            )
        return job


def patch_did_not_apply(error: ApiError) -> bool:
    """A 422 without details: the JSON patch itself failed (a test op, a missing path)."""
    details = error.status.details
    return error.status.code == 422 and (details is None or not (details.name or details.causes))


def classify_api_error(error: ApiError) -> StatusWriteError:
    """Retryable, refused (another 4xx) or permanent (gone, replaced), with the server's words."""
    code = error.status.code or 0
    message = f"API server answered {code} {error.status.reason or ''}: {error.status.message}"
    if code in _PERMANENT_CODES:
        return StatusWriteError(message, retryable=False, permanent=True, code=code)
    if 400 <= code < 500 and code not in _RETRYABLE_CLIENT_CODES:
        return StatusWriteError(message, retryable=False, code=code)
    return StatusWriteError(message, retryable=True, code=code)


class FileStatusWriter:
    """Offline runs: merges every patch into a JSON file, written atomically."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        """Replace the parts the patch names in the file's status (as the API server does).

        A lock file beside it serialises the writes of the processes of one job.
        """
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._path.with_name(self._path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            merged = merge_status_parts(self._load(), patch)
            handle, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=".status-")
            with os.fdopen(handle, "w") as stream:
                json.dump(merged, stream, indent=2, sort_keys=True)
            os.replace(temporary, self._path)

    def read_status(self) -> AIJobStatus:
        """The status as the file holds it."""
        return AIJobStatus.model_validate(self._load())

    def _load(self) -> dict[str, Any]:
        if not self._path.exists():
            return {}
        loaded = json.loads(self._path.read_text() or "{}")
        return loaded if isinstance(loaded, dict) else {}


class LogStatusWriter:
    """No AIJob and no file: status writes only go to the log."""

    def __init__(self) -> None:
        self._status: dict[str, Any] = {}

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        """Log the patch (and keep the result for read_status)."""
        self._status = merge_status_parts(self._status, patch)
        logger.info("status", extra={"status_patch": dict(patch)})

    def read_status(self) -> AIJobStatus:
        """What was written so far in this process."""
        return AIJobStatus.model_validate(self._status)
