"""Where status writes go: the AIJob's status subresource, or a file for offline runs.

The worker owns three parts of the status: `progress`, `results` and
`checkpoint` (the operator owns phase, conditions and the message). Writes are
JSON merge patches of those parts. Every failure is classified: a retryable one
(the API server is briefly unreachable, overloaded, or refuses for a moment) is
retried by the caller; a permanent one (the AIJob is gone or was re-created
under the same name) stops further writes.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx2 as httpx
from aijob_api.models import AIJobStatus
from aijob_kube.resources import AIJobResource
from lightkube import ApiError, Client
from lightkube.types import PatchType

logger = logging.getLogger(__name__)

FIELD_MANAGER = "aijob-worker"
REQUEST_TIMEOUT_SECONDS = 10.0

_PERMANENT_CODES = frozenset({404, 409, 410})
"""Gone (404, 410) or re-created under the same name (409 on the UID precondition)."""
_DROP_CODES = frozenset({400, 422})
"""The API server refuses this patch's content: retrying the same patch cannot help."""


class StatusWriteError(Exception):
    """A status write failed; `retryable` says whether trying again may succeed."""

    def __init__(self, message: str, *, retryable: bool, permanent: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.permanent = permanent
        """No later write can succeed either (the AIJob is gone or replaced)."""


class StatusWriter(Protocol):
    """Writes a merge patch into the job's status and reads the status back."""

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        """Merge `patch` into the status; raise StatusWriteError on failure."""

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
        """Merge-patch the status; the UID, when known, is a precondition of the write."""
        body: dict[str, Any] = {"status": dict(patch)}
        if self._uid:
            body["metadata"] = {"uid": self._uid}
        try:
            self._client.patch(
                AIJobResource.Status,
                self._name,
                body,
                namespace=self._namespace,
                patch_type=PatchType.MERGE,
            )
        except ApiError as error:
            raise _classify_api_error(error) from error
        except httpx.HTTPError as error:
            raise StatusWriteError(f"API server unreachable: {error}", retryable=True) from error

    def read_status(self) -> AIJobStatus:
        """Get the AIJob and parse its status (an empty status when it has none)."""
        try:
            job = self._client.get(AIJobResource, self._name, namespace=self._namespace)
        except ApiError as error:
            raise _classify_api_error(error) from error
        except httpx.HTTPError as error:
            raise StatusWriteError(f"API server unreachable: {error}", retryable=True) from error
        if self._uid and job.metadata is not None and job.metadata.uid != self._uid:
            raise StatusWriteError(
                f"AIJob {self._namespace}/{self._name} was re-created (uid {job.metadata.uid})",
                retryable=False,
                permanent=True,
            )
        return AIJobStatus.model_validate(job.get("status") or {})

    def read_other_status(self, name: str) -> AIJobStatus:
        """The status of another AIJob in the same namespace (a training job to infer with)."""
        try:
            job = self._client.get(AIJobResource, name, namespace=self._namespace)
        except ApiError as error:
            raise _classify_api_error(error) from error
        return AIJobStatus.model_validate(job.get("status") or {})


def _classify_api_error(error: ApiError) -> StatusWriteError:
    code = error.status.code or 0
    message = f"API server answered {code}: {error.status.message}"
    if code in _PERMANENT_CODES:
        return StatusWriteError(message, retryable=False, permanent=True)
    if code in _DROP_CODES:
        return StatusWriteError(message, retryable=False)
    return StatusWriteError(message, retryable=True)


class FileStatusWriter:
    """Offline runs: merges every patch into a JSON file, written atomically."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        """Merge the patch into the file's status (RFC 7386 semantics)."""
        current = self._load()
        merged = merge_patch(current, patch)
        self._path.parent.mkdir(parents=True, exist_ok=True)
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
        """Log the patch (and keep the merged result for read_status)."""
        self._status = merge_patch(self._status, patch)
        logger.info("status", extra={"status_patch": dict(patch)})

    def read_status(self) -> AIJobStatus:
        """What was written so far in this process."""
        return AIJobStatus.model_validate(self._status)


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a JSON merge patch (RFC 7386) to a JSON object."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge_patch(result[key], value)
        elif isinstance(value, Mapping):
            result[key] = merge_patch({}, value)
        else:
            result[key] = value
    return result
