"""The operator's calls to the Kubernetes API, through one lightkube AsyncClient.

A storage layer in gafaelfawr's sense: it turns lightkube's `ApiError` into
answers the reconciler can act on (created / already there / gone / refused),
and counts every request in the operator's metrics, so the benchmark can
account for each write.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from aijob_api.constants import API_VERSION, GROUP, KIND, PLURAL, VERSION
from lightkube import ApiError, AsyncClient
from lightkube.core.resource import NamespacedResource
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Event
from lightkube.types import CascadeType, PatchType

from aijob_operator.events import PendingEvent
from aijob_operator.metrics import API_REQUEST_SECONDS, API_REQUESTS

AIJobResource: Final = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)
"""The AIJob custom resource as a lightkube resource class."""

REPORTING_COMPONENT: Final = "aijob-operator"

_Obj = TypeVar("_Obj", bound=NamespacedResource)


class RefusedError(Exception):
    """The API server refused a write for good (invalid object, forbidden)."""


class ConflictError(Exception):
    """The object changed or exists already; read it again."""


def _code(error: ApiError) -> int:
    return int(error.status.code or 0)


class KubeApi:
    """The requests the reconciler makes, with errors mapped and requests counted."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self, obj: _Obj) -> _Obj | None:
        """Create an object; None when one of that name exists already."""
        resource = type(obj).__name__.lower()
        started = time.perf_counter()
        try:
            created = await self._client.create(obj)
        except ApiError as error:
            self._count("create", resource, _code(error), started)
            if _code(error) == 409:
                return None
            if _code(error) in (400, 403, 422):
                raise RefusedError(
                    f"creating the {type(obj).__name__}: {error.status.message}"
                ) from error
            raise
        self._count("create", resource, 201, started)
        return created

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Job as a dict, or None when it does not exist."""
        started = time.perf_counter()
        try:
            job = await self._client.get(Job, name, namespace=namespace)
        except ApiError as error:
            self._count("get", "job", _code(error), started)
            if _code(error) == 404:
                return None
            raise
        self._count("get", "job", 200, started)
        return job.to_dict()

    async def delete_job(self, namespace: str, name: str) -> None:
        """Delete a Job and (in the background) its pods; a missing Job is fine."""
        started = time.perf_counter()
        try:
            await self._client.delete(
                Job, name, namespace=namespace, cascade=CascadeType.BACKGROUND
            )
        except ApiError as error:
            self._count("delete", "job", _code(error), started)
            if _code(error) != 404:
                raise
            return
        self._count("delete", "job", 200, started)

    async def delete_aijob(self, namespace: str, name: str) -> None:
        """Delete an AIJob; what it owns goes with it (owner references)."""
        started = time.perf_counter()
        try:
            await self._client.delete(
                AIJobResource, name, namespace=namespace, cascade=CascadeType.BACKGROUND
            )
        except ApiError as error:
            self._count("delete", "aijob", _code(error), started)
            if _code(error) != 404:
                raise
            return
        self._count("delete", "aijob", 200, started)

    async def patch_status(
        self, namespace: str, name: str, status: dict[str, Any], uid: str | None
    ) -> dict[str, Any] | None:
        """Merge-patch an AIJob's status; return the new body, None when the AIJob is gone.

        The patch carries the AIJob's uid as a precondition, so it can never land on a
        namesake created after the one the status was computed for.
        """
        patch: dict[str, Any] = {"status": status}
        if uid:
            patch["metadata"] = {"uid": uid}
        started = time.perf_counter()
        try:
            result = await self._client.patch(
                AIJobResource.Status,
                name,
                patch,
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )
        except ApiError as error:
            self._count("patch", "aijob/status", _code(error), started)
            if _code(error) == 404:
                return None
            if _code(error) == 409:
                raise ConflictError(error.status.message) from error
            if _code(error) in (400, 422):
                raise RefusedError(f"patching the status: {error.status.message}") from error
            raise
        self._count("patch", "aijob/status", 200, started)
        return dict(result)

    async def post_event(
        self,
        *,
        namespace: str,
        name: str,
        uid: str | None,
        type_: str,
        reason: str,
        message: str,
    ) -> None:
        """Post a core/v1 Event on an AIJob (what `kubectl describe aijob` shows)."""
        now = datetime.now(UTC)
        event = Event(
            # Named as client-go names Events: the object's name and the time in nanoseconds.
            metadata=ObjectMeta(name=f"{name}.{time.time_ns():x}", namespace=namespace),
            involvedObject=ObjectReference(
                apiVersion=API_VERSION, kind=KIND, name=name, namespace=namespace, uid=uid
            ),
            type=type_,
            reason=reason,
            message=message[:1024],
            firstTimestamp=now,
            lastTimestamp=now,
            count=1,
            source=EventSource(component=REPORTING_COMPONENT),
            reportingComponent=REPORTING_COMPONENT,
            reportingInstance=REPORTING_COMPONENT,
        )
        started = time.perf_counter()
        try:
            await self._client.create(event)
        except ApiError as error:
            self._count("create", "event", _code(error), started)
            if _code(error) not in (403, 404, 409, 422):
                raise
            return
        self._count("create", "event", 201, started)

    async def post_pending_event(self, event: PendingEvent) -> None:
        """Post an Event the EventPoster queued."""
        await self.post_event(
            namespace=event.namespace,
            name=event.name,
            uid=event.uid,
            type_=event.type,
            reason=event.reason,
            message=event.message,
        )

    def _count(self, verb: str, resource: str, code: int, started: float) -> None:
        API_REQUESTS.labels(verb=verb, resource=resource, code=str(code)).inc()
        API_REQUEST_SECONDS.labels(verb=verb, resource=resource).observe(
            time.perf_counter() - started
        )
