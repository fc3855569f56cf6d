"""The operator's calls to the Kubernetes API, through one lightkube AsyncClient.

A storage layer in gafaelfawr's sense: failures come out as `aijob_kube.errors`
(the one mapping of lightkube's errors), the expected ones as answers the reconciler
can act on (created / already there / gone), and every request the API server
answered is counted in the operator's metrics, so the benchmark can account for
each write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import httpx2 as httpx
from aijob_api.constants import API_VERSION, KIND
from aijob_kube.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    KubeError,
    NotFoundError,
    kube_errors,
)
from aijob_kube.resources import AIJobResource, RawWorkload
from lightkube import ALL_NS, ApiError, AsyncClient, operators
from lightkube.core.client import FieldSelector
from lightkube.core.resource import NamespacedResource
from lightkube.generic_resource import GenericNamespacedResource
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Event, Node, Pod, Secret, Service
from lightkube.types import CascadeType, PatchType

from aijob_operator.events import PendingEvent
from aijob_operator.metrics import API_REQUEST_SECONDS, API_REQUESTS

REPORTING_COMPONENT: Final = "aijob-operator"

logger = logging.getLogger(__name__)

_Obj = TypeVar("_Obj", bound=NamespacedResource)


class KubeApi:
    """The requests the reconciler makes, with errors mapped and requests counted.

    Refusals for good (`InvalidError`, `ForbiddenError`) and a status write that lost a
    race (`ConflictError`) are raised for the reconciler to act on; other failures
    (`UnavailableError`, ...) are raised too, and the work queue retries the AIJob.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def workloads_served(self, namespaces: Sequence[str]) -> bool:
        """Whether Kueue's Workloads are served and readable here (one list of at most one
        object in the first watched namespace); a 404 (with or without a Status body) means no
        Kueue, or not yet; a refusal is logged."""
        try:
            async for _ in self._client.list(
                RawWorkload, namespace=namespaces[0] if namespaces else ALL_NS, chunk_size=1
            ):
                break
        except ApiError as error:
            if error.status.code != 404:
                logger.warning(
                    "Kueue's Workloads are not readable (%s): queued jobs show no Kueue reason; "
                    "grant workloads.kueue.x-k8s.io list and watch (the chart does)",
                    error.status.message,
                )
            return False
        except httpx.HTTPStatusError as error:
            # A 404 without a Status body: the API server does not serve the path (yet:
            # discovery can name the group a moment before it does); re-checked later.
            if error.response.status_code != 404:
                raise
            return False
        return True

    async def create(self, obj: _Obj) -> _Obj | None:
        """Create an object; None when one of that name exists already."""
        kind = type(obj).__name__
        try:
            with self._request("create", kind.lower(), f"creating the {kind}", 201):
                created = await self._client.create(obj)
        except ConflictError:
            return None
        return created

    async def apply(self, obj: _Obj) -> _Obj:
        """Server-side apply an object the operator owns (its field manager, forced)."""
        kind = type(obj).__name__
        with self._request("apply", kind.lower(), f"applying the {kind}", 200):
            return await self._client.apply(obj, force=True)

    async def get(
        self, resource: type[GenericNamespacedResource], namespace: str, name: str
    ) -> dict[str, Any] | None:
        """An object (of a raw or custom resource) as a dict, or None when it does not exist."""
        kind = resource._api_info.resource.kind
        try:
            with self._request("get", kind.lower(), f"reading {kind} {namespace}/{name}", 200):
                found = await self._client.get(resource, name, namespace=namespace)
        except NotFoundError:
            return None
        return dict(found)

    async def get_metadata(
        self, resource: type[NamespacedResource], namespace: str, name: str
    ) -> dict[str, Any] | None:
        """The metadata of an object (of a typed resource: a ServiceAccount, a Role...) as a
        dict, or None when it does not exist."""
        kind = resource._api_info.resource.kind
        try:
            with self._request("get", kind.lower(), f"reading {kind} {namespace}/{name}", 200):
                found = await self._client.get(resource, name, namespace=namespace)
        except NotFoundError:
            return None
        metadata = found.to_dict().get("metadata") if hasattr(found, "to_dict") else None
        return dict(metadata or {})

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Secret as a dict (its data base64), or None when it does not exist."""
        try:
            with self._request("get", "secret", f"reading Secret {namespace}/{name}", 200):
                secret = await self._client.get(Secret, name, namespace=namespace)
        except NotFoundError:
            return None
        return secret.to_dict()

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Job as a dict, or None when it does not exist."""
        try:
            with self._request("get", "job", f"reading Job {namespace}/{name}", 200):
                job = await self._client.get(Job, name, namespace=namespace)
        except NotFoundError:
            return None
        return job.to_dict()

    async def delete_job(self, namespace: str, name: str) -> None:
        """Delete a Job and (in the background) its pods; a missing Job is fine."""
        try:
            with self._request("delete", "job", f"deleting Job {namespace}/{name}", 200):
                await self._client.delete(
                    Job, name, namespace=namespace, cascade=CascadeType.BACKGROUND
                )
        except NotFoundError:
            return

    async def delete_job_group(self, namespace: str, name: str) -> None:
        """Delete a group's Job in the foreground: the Job goes only after its pods, so the
        next attempt's pods never meet the last one's; a missing Job is fine."""
        try:
            with self._request("delete", "job", f"deleting Job {namespace}/{name}", 200):
                await self._client.delete(
                    Job, name, namespace=namespace, cascade=CascadeType.FOREGROUND
                )
        except NotFoundError:
            return

    async def unsuspend_job(self, namespace: str, name: str) -> None:
        """Start a suspended Job (its group fits); a missing Job is fine."""
        patch = {"spec": {"suspend": False}}
        try:
            with self._request("patch", "job", f"starting Job {namespace}/{name}", 200):
                await self._client.patch(
                    Job, name, patch, namespace=namespace, patch_type=PatchType.MERGE
                )
        except NotFoundError:
            return

    async def get_service(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Service as a dict, or None when it does not exist."""
        try:
            with self._request("get", "service", f"reading Service {namespace}/{name}", 200):
                service = await self._client.get(Service, name, namespace=namespace)
        except NotFoundError:
            return None
        return service.to_dict()

    async def list_nodes(self) -> list[dict[str, Any]]:
        """Every Node, as dicts (the gang start's capacity)."""
        with self._request("list", "node", "listing Nodes", 200):
            return [node.to_dict() async for node in self._client.list(Node)]

    async def list_bound_pods(self) -> list[dict[str, Any]]:
        """Every pod of every namespace bound to a node and not ended, as dicts."""
        fields: FieldSelector = {
            "spec.nodeName": operators.not_equal(""),
            "status.phase": operators.not_in(["Succeeded", "Failed"]),
        }
        with self._request("list", "pod", "listing bound Pods", 200):
            pods = self._client.list(Pod, namespace=ALL_NS, fields=fields)
            return [pod.to_dict() async for pod in pods]

    async def evict_pod(self, namespace: str, name: str) -> None:
        """Evict a pod (the Eviction API): it is stopped gracefully and marked a disruption
        (`DisruptionTarget`), which the Job's podFailurePolicy does not count as a failure.
        A pod already gone is fine."""
        eviction = Pod.Eviction(metadata=ObjectMeta(name=name, namespace=namespace))
        try:
            with self._request("create", "pod/eviction", f"evicting Pod {namespace}/{name}", 201):
                await self._client.create(eviction, name=name, namespace=namespace)
        except NotFoundError:
            return

    async def delete_aijob(self, namespace: str, name: str) -> None:
        """Delete an AIJob; what it owns goes with it (owner references)."""
        try:
            with self._request("delete", "aijob", f"deleting AIJob {namespace}/{name}", 200):
                await self._client.delete(
                    AIJobResource, name, namespace=namespace, cascade=CascadeType.BACKGROUND
                )
        except NotFoundError:
            return

    async def patch_status(
        self,
        namespace: str,
        name: str,
        status: dict[str, Any],
        uid: str | None,
        resource: type[GenericNamespacedResource] = AIJobResource,
    ) -> dict[str, Any] | None:
        """Merge-patch the status of an AIJob (or another of aijob's resources); return the
        new body, None when the object is gone.

        The patch carries the object's uid as a precondition, so it can never land on a
        namesake created after the one the status was computed for (`ConflictError`).
        """
        patch: dict[str, Any] = {"status": status}
        if uid:
            patch["metadata"] = {"uid": uid}
        kind = resource._api_info.resource.kind.lower()
        try:
            with self._request("patch", f"{kind}/status", "patching the status", 200):
                result = await self._client.patch(
                    resource.Status,
                    name,
                    patch,
                    namespace=namespace,
                    patch_type=PatchType.MERGE,
                )
        except NotFoundError:
            return None
        return dict(result)

    async def json_patch_status(
        self, namespace: str, name: str, operations: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Apply a JSON patch (RFC 6902) to an AIJob's status: the workers' parts, written by
        the status server (`status_intake.status_operations`); its tests failing is an
        `InvalidError` (422), the AIJob gone a `NotFoundError`."""
        with self._request("patch", "aijob/status", "writing a worker's report", 200):
            result = await self._client.patch(
                AIJobResource.Status,
                name,
                operations,
                namespace=namespace,
                patch_type=PatchType.JSON,
            )
        return dict(result)

    async def scale(
        self,
        resource: type[GenericNamespacedResource],
        namespace: str,
        name: str,
        replicas: int,
        resource_version: str | None,
    ) -> str | None:
        """Set `spec.replicas` through the scale subresource; return the new resourceVersion,
        None when the object is gone.

        The patch carries the resourceVersion the decision was made from, so a change made
        meanwhile (`kubectl scale`, a new spec) wins and this write fails (`ConflictError`).
        """
        patch: dict[str, Any] = {"spec": {"replicas": replicas}}
        if resource_version:
            patch["metadata"] = {"resourceVersion": resource_version}
        kind = resource._api_info.resource.kind.lower()
        try:
            with self._request("patch", f"{kind}/scale", f"scaling {namespace}/{name}", 200):
                scale = await self._client.patch(
                    resource.Scale, name, patch, namespace=namespace, patch_type=PatchType.MERGE
                )
        except NotFoundError:
            return None
        return scale.metadata.resourceVersion if scale.metadata else None

    async def post_event(
        self,
        *,
        namespace: str,
        name: str,
        uid: str | None,
        type_: str,
        reason: str,
        message: str,
        kind: str = KIND,
    ) -> None:
        """Post a core/v1 Event on an AIJob, or an object of another of aijob's kinds (what
        `kubectl describe` shows)."""
        now = datetime.now(UTC)
        event = Event(
            # Named as client-go names Events: the object's name and the time in nanoseconds.
            metadata=ObjectMeta(name=f"{name}.{time.time_ns():x}", namespace=namespace),
            involvedObject=ObjectReference(
                apiVersion=API_VERSION, kind=kind, name=name, namespace=namespace, uid=uid
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
        try:
            with self._request("create", "event", f"posting an Event on {namespace}/{name}", 201):
                await self._client.create(event)
        except (ForbiddenError, NotFoundError, ConflictError, InvalidError):
            return

    async def post_pending_event(self, event: PendingEvent) -> None:
        """Post an Event the EventPoster queued."""
        await self.post_event(
            namespace=event.namespace,
            name=event.name,
            uid=event.uid,
            type_=event.type,
            reason=event.reason,
            message=event.message,
            kind=event.kind,
        )

    @contextmanager
    def _request(self, verb: str, resource: str, what: str, success: int) -> Iterator[None]:
        """Map the failures of the request inside the block; count every answered one."""
        started = time.perf_counter()
        try:
            with kube_errors(what):
                yield
        except KubeError as error:
            if error.code is not None:
                self._count(verb, resource, error.code, started)
            raise
        self._count(verb, resource, success, started)

    def _count(self, verb: str, resource: str, code: int, started: float) -> None:
        API_REQUESTS.labels(verb=verb, resource=resource, code=str(code)).inc()
        API_REQUEST_SECONDS.labels(verb=verb, resource=resource).observe(
            time.perf_counter() - started
        )
