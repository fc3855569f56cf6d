"""Reconcile one AIEndpoint: read what is known, decide (pure), write children, then the status.

The service layer between the thin kopf handler and the pure builders and decisions,
as `aijob_operator.reconciler` is for AIJobs. Every trigger (the endpoint's watch
events, its children's, the training job it serves, the periodic re-check) ends here
through the endpoints' own work queue, so one endpoint is never reconciled twice at
the same time and always from the latest state. Children are written only when the
cached views say they are missing or differ from what is built (their applied hash),
and the status only when it changed: a restarted operator re-derives everything from
the cluster and writes nothing that is already so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from aijob_api.constants import ENDPOINT_KIND
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_conditions import EndpointReason
from aijob_api.endpoint_scaling import AutoscalingStatus
from aijob_api.models import AIJob
from aijob_kube.errors import ConflictError, ForbiddenError, InvalidError
from aijob_kube.resources import (
    AIEndpointResource,
    AIJobResource,
    RawConfigMap,
    RawDeployment,
    RawService,
)
from lightkube.generic_resource import GenericNamespacedResource
from pydantic import ValidationError

from aijob_operator.builders.endpoint_meta import (
    config_map_name,
    deployment_name,
    service_name,
)
from aijob_operator.builders.pod import pod_settings
from aijob_operator.catalog import RuntimeCatalog
from aijob_operator.config import OperatorConfig
from aijob_operator.dependency import endpoint_store_problem, resolve_model_source
from aijob_operator.endpoint_autoscale import ScaleDecision, decide_scale, published_load
from aijob_operator.endpoint_decide import (
    ChildKind,
    ChildWrite,
    EndpointDecision,
    EndpointInputs,
    Write,
    decide_endpoint,
    endpoint_event,
    endpoint_status_patch,
)
from aijob_operator.endpoint_source import resolve_runtime, runtime_request
from aijob_operator.endpoint_views import DeploymentView, EndpointPodView, OwnedView
from aijob_operator.events import EventPoster, PendingEvent
from aijob_operator.invalid import report_invalid_spec
from aijob_operator.kube import KubeApi
from aijob_operator.reconciler import ChildViews
from aijob_operator.store import AIJobStore, EndpointStore, Key
from aijob_operator.worker_loop import run_reconcile_worker
from aijob_operator.workqueue import WorkQueue

logger = logging.getLogger(__name__)

_RESOURCES: dict[ChildKind, type[GenericNamespacedResource]] = {
    ChildKind.CONFIG_MAP: RawConfigMap,
    ChildKind.SERVICE: RawService,
    ChildKind.DEPLOYMENT: RawDeployment,
}
_NAMES: dict[ChildKind, Callable[[str], str]] = {
    ChildKind.CONFIG_MAP: config_map_name,
    ChildKind.SERVICE: service_name,
    ChildKind.DEPLOYMENT: deployment_name,
}


@dataclass
class EndpointCaches:
    """What the operator knows of endpoints without asking the API server."""

    endpoints: EndpointStore
    aijobs: AIJobStore
    deployments: ChildViews
    pods: ChildViews
    services: ChildViews
    config_maps: ChildViews


class EndpointReconciler:
    """Turns one AIEndpoint key into child writes and a status write."""

    def __init__(
        self,
        api: KubeApi,
        caches: EndpointCaches,
        catalog: RuntimeCatalog,
        config: OperatorConfig,
        queue: WorkQueue[Key],
        events: EventPoster,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._api = api
        self._caches = caches
        self._catalog = catalog
        self._config = config
        self._queue = queue
        self._events = events
        self._clock = clock
        self._settings = pod_settings(config)

    async def run_worker(self) -> None:
        """Take endpoint keys from the queue and reconcile them, forever."""
        await run_reconcile_worker(self._queue, self.reconcile, kind=ENDPOINT_KIND, observe=False)

    async def reconcile(self, key: Key) -> None:
        """Bring one endpoint's children and status in line with its spec, model and pods."""
        body = self._caches.endpoints.get(key)
        if body is None or body.get("metadata", {}).get("deletionTimestamp"):
            self._queue.discard(key)
            return
        try:
            endpoint = AIEndpoint.model_validate(body)
        except ValidationError as error:
            await report_invalid_spec(
                self._api,
                self._events,
                self._caches.endpoints,
                key,
                body,
                error,
                resource=AIEndpointResource,
                kind=ENDPOINT_KIND,
            )
            return
        endpoint, scaling = await self._autoscale(key, body, endpoint)
        inputs = replace(await self._inputs(key, endpoint), autoscaling=scaling.status)
        decision = decide_endpoint(inputs)
        try:
            name_taken = await self._write_children(key, endpoint, decision.writes)
        except (InvalidError, ForbiddenError) as error:  # refused for good: say why
            decision = decide_endpoint(replace(inputs, runtime_error=str(error)))
        else:
            if name_taken is not None:
                decision = decide_endpoint(replace(inputs, name_taken=name_taken))
        await self._write_status(endpoint, decision)
        waits = [
            wait for wait in (decision.requeue_after, scaling.recheck_after) if wait is not None
        ]
        if waits:
            self._queue.add_after(key, min(waits))

    async def _autoscale(
        self, key: Key, body: dict[str, Any], endpoint: AIEndpoint
    ) -> tuple[AIEndpoint, ScaleDecision]:
        """Decide the replicas for the load the gateways published; apply a change through the
        scale subresource (from the version decided on), remember it, and post an Event."""
        now = self._clock()
        stale = self._config.endpoint_load_stale_seconds
        load = published_load(endpoint.status, now, stale)
        scaling = decide_scale(endpoint.spec, endpoint.status.autoscaling, load, now, stale)
        if scaling.scaled_from is None:
            return endpoint, scaling
        held = replace(
            scaling,
            replicas=endpoint.spec.replicas,
            scaled_from=None,
            status=endpoint.status.autoscaling,
        )
        try:
            version = await self._api.scale(
                AIEndpointResource,
                key[0],
                key[1],
                scaling.replicas,
                endpoint.metadata.resource_version,
            )
        except ConflictError:  # changed meanwhile: its watch event brings it back, newer
            return endpoint, held
        except (InvalidError, ForbiddenError) as error:  # refused: serve on, and say why
            logger.warning("AIEndpoint %s/%s: scaling refused: %s", *key, error)
            words = f"scaling from {scaling.scaled_from} to {scaling.replicas} was refused: {error}"
            refused = AutoscalingStatus(
                wanted_replicas=scaling.status.wanted_replicas if scaling.status else None,
                message=words[:1024],
            )
            return endpoint, replace(held, status=refused)
        if version is None:  # gone: its deletion is on its way
            return endpoint, held
        metadata = {
            **body["metadata"],
            "resourceVersion": version,
            "generation": (endpoint.metadata.generation or 0) + 1,
        }
        scaled = {
            **body,
            "metadata": metadata,
            "spec": {**body["spec"], "replicas": scaling.replicas},
        }
        self._caches.endpoints.put(scaled)
        up = scaling.replicas > scaling.scaled_from
        reason = EndpointReason.SCALED_UP if up else EndpointReason.SCALED_DOWN
        logger.info("AIEndpoint %s/%s: %s: %s", *key, reason, scaling.event_message)
        self._events.post(
            PendingEvent(
                key[0],
                key[1],
                endpoint.metadata.uid,
                "Normal",
                reason,
                scaling.event_message,
                kind=ENDPOINT_KIND,
            )
        )
        return AIEndpoint.model_validate(scaled), scaling

    async def _inputs(self, key: Key, endpoint: AIEndpoint) -> EndpointInputs:
        now = self._clock()
        training = await self._training_job(key[0], endpoint)
        dependency = resolve_model_source(
            endpoint.spec.model.source,
            endpoint.metadata.creation_timestamp,
            training,
            now,
            self._config.dependency_grace_seconds,
        )
        request = runtime_request(endpoint.spec, training)
        runtime, runtime_error = resolve_runtime(
            self._catalog, request, endpoint.spec.resources.gpu
        )
        # A model outside the tenant's store is refused before any child is written.
        runtime_error = (
            endpoint_store_problem(endpoint, dependency, self._settings.store) or runtime_error
        )
        return EndpointInputs(
            endpoint=endpoint,
            now=now,
            dependency=dependency,
            runtime=runtime,
            runtime_error=runtime_error,
            model_type=request.model_type,
            settings=self._settings,
            children=self._children(key),
            pods=tuple(
                view for view in self._caches.pods.get(key, ()) if isinstance(view, EndpointPodView)
            ),
            recheck_seconds=self._config.recheck_seconds,
        )

    async def _training_job(self, namespace: str, endpoint: AIEndpoint) -> AIJob | None:
        """The training AIJob named, from the store; read from the API server if not there
        (the store may not have listed every AIJob yet, right after a restart)."""
        name = endpoint.spec.model.source.training_job
        if name is None:
            return None
        body = self._caches.aijobs.get((namespace, name))
        if body is None:
            body = await self._api.get(AIJobResource, namespace, name)
            if body is not None:
                self._caches.aijobs.put(body)
        if body is None:
            return None
        try:
            return AIJob.model_validate(body)
        except ValidationError:
            return None

    def _children(self, key: Key) -> dict[ChildKind, OwnedView | DeploymentView]:
        """The cached views of the endpoint's children, by kind (named as it names them)."""
        caches: dict[ChildKind, ChildViews] = {
            ChildKind.CONFIG_MAP: self._caches.config_maps,
            ChildKind.SERVICE: self._caches.services,
            ChildKind.DEPLOYMENT: self._caches.deployments,
        }
        children: dict[ChildKind, OwnedView | DeploymentView] = {}
        for kind, cache in caches.items():
            wanted = _NAMES[kind](key[1])
            for view in cache.get(key, ()):
                if isinstance(view, OwnedView | DeploymentView) and view.name == wanted:
                    children[kind] = view
        return children

    async def _write_children(
        self, key: Key, endpoint: AIEndpoint, writes: tuple[ChildWrite, ...]
    ) -> str | None:
        """Create or apply each child; `a Service named x exists` when a stranger has a name."""
        for write in writes:
            if write.write is Write.APPLY:
                await self._api.apply(write.child)
                continue
            if await self._api.create(write.child) is not None:
                continue
            name = _NAMES[write.kind](key[1])
            existing = await self._api.get(_RESOURCES[write.kind], key[0], name)
            owners = (existing or {}).get("metadata", {}).get("ownerReferences") or []
            if existing is not None and not any(
                owner.get("controller") and owner.get("uid") == endpoint.metadata.uid
                for owner in owners
            ):
                return f"a {write.kind.value} named {name} exists"
            await self._api.apply(write.child)
        return None

    async def _write_status(self, endpoint: AIEndpoint, decision: EndpointDecision) -> None:
        """Write the status if it changed; post an Event when the phase or reason did."""
        patch = endpoint_status_patch(endpoint.status, decision.status)
        if not patch:
            return
        namespace = endpoint.metadata.namespace or ""
        name = endpoint.metadata.name or ""
        uid = endpoint.metadata.uid
        result = await self._api.patch_status(
            namespace, name, patch, uid, resource=AIEndpointResource
        )
        if result is None:
            return
        self._caches.endpoints.put(result)
        event = endpoint_event(endpoint.status, decision.status)
        if event is None:
            return
        logger.info(
            "AIEndpoint %s/%s: %s %s: %s",
            namespace,
            name,
            decision.status.phase,
            event.reason,
            event.message,
        )
        self._events.post(
            PendingEvent(
                namespace, name, uid, event.type, event.reason, event.message, kind=ENDPOINT_KIND
            )
        )
