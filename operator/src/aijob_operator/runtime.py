"""The operator's process-wide state, kept in kopf's `memo` between start-up and clean-up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from lightkube import AsyncClient

from aijob_operator.config import OperatorConfig
from aijob_operator.endpoint_reconciler import EndpointReconciler
from aijob_operator.events import EventPoster, PendingEvent
from aijob_operator.informer import ChildCache, ChildInformer
from aijob_operator.leader_election import LeaderElector
from aijob_operator.reconciler import ChildViews, Reconciler
from aijob_operator.replica_client import ReplicaClient
from aijob_operator.status_channel import StatusChannel
from aijob_operator.status_server import StatusServer
from aijob_operator.store import AIJobStore, EndpointStore, Key
from aijob_operator.workqueue import WorkQueue

logger = logging.getLogger(__name__)

IGNORED_REASON: Final = "OperatorNamespace"
"""The reason of the Warning Event on an AIJob or AIEndpoint the operator will not reconcile."""


@dataclass
class EndpointState:
    """The AIEndpoints' share: their store, work queue, reconciler, child informers and the views
    of their pods."""

    store: EndpointStore
    queue: WorkQueue[Key]
    reconciler: EndpointReconciler
    informers: list[ChildInformer] = field(default_factory=list)
    pods: ChildViews = field(default_factory=ChildCache)
    """Views of the endpoints' model server pods, by endpoint (the pods informer's cache)."""


@dataclass
class OperatorState:
    """Everything the handlers share: the client, the store, the queue and the workers
    (the AIJobs'), and the AIEndpoints' own."""

    config: OperatorConfig
    client: AsyncClient
    store: AIJobStore
    queue: WorkQueue[Key]
    reconciler: Reconciler
    events: EventPoster
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    informers: list[ChildInformer] = field(default_factory=list)
    stoppers: list[Callable[[], Any]] = field(default_factory=list)
    endpoints: EndpointState | None = None
    replica_client: ReplicaClient | None = None
    """HTTP to endpoints' replicas, for the jobs run on them (closed at clean-up)."""
    told_ignored: set[str] = field(default_factory=set)
    """Uids of the objects in the operator's own namespace already told they are ignored."""
    elector: LeaderElector | None = None
    """The leader election; None when it is off (this process writes at once)."""
    status_server: StatusServer | None = None
    """The workers' status server; None when it has no certificate (`status_config`)."""
    status_channel: StatusChannel | None = None
    """What worker pods are told of the channel; None without one (no URL)."""

    def leads(self) -> bool:
        """Whether this process may write (it leads, or there is no election)."""
        return self.elector is None or self.elector.leading.is_set()

    async def wait_leading(self) -> None:
        """Return once this process may write (at once without an election)."""
        if self.elector is not None:
            await self.elector.leading.wait()

    async def when_leading(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` (something that writes) only once this process leads."""
        try:
            await self.wait_leading()
        except asyncio.CancelledError:
            work.close()
            raise
        await work

    def enqueue_all(self) -> int:
        """Queue every AIJob and AIEndpoint known (a new leader's first round); how many."""
        keys = list(self.store.keys())
        for key in keys:
            self.queue.add(key)
        if self.endpoints is not None:
            endpoint_keys = list(self.endpoints.store.keys())
            for key in endpoint_keys:
                self.endpoints.queue.add(key)
            return len(keys) + len(endpoint_keys)
        return len(keys)

    def healthy(self) -> bool:
        """Whether every informer, reconcile worker and event poster is still alive."""
        return all(not task.done() for task in self.workers)

    def ignores(self, event_type: str | None, body: Mapping[str, Any], kind: str) -> bool:
        """Whether an object is in the operator's own namespace (`in_own_namespace`)."""
        return in_own_namespace(
            self.config.own_namespace, self.told_ignored, self.events, event_type, body, kind
        )


def in_own_namespace(
    own_namespace: str | None,
    told: set[str],
    events: EventPoster,
    event_type: str | None,
    body: Mapping[str, Any],
    kind: str,
) -> bool:
    """Whether an object is in the operator's own namespace, where nothing is reconciled.

    The first sight of each one (by uid, remembered in `told`) is logged and told by a
    Warning Event on it (what `kubectl describe` shows), so its author learns why it stays
    without a phase.
    """
    metadata = body.get("metadata") or {}
    namespace = metadata.get("namespace")
    if own_namespace is None or namespace != own_namespace:
        return False
    uid = str(metadata.get("uid") or "")
    if event_type == "DELETED":
        told.discard(uid)
    elif uid not in told:
        told.add(uid)
        name = str(metadata.get("name") or "")
        message = (
            f"{kind} {namespace}/{name} is ignored: {namespace} is the aijob operator's own "
            "namespace, where nothing is reconciled (no job or endpoint runs beside, or as, "
            "aijob's own accounts); create it in a tenant namespace"
        )
        logger.warning("%s", message)
        events.post(
            PendingEvent(namespace, name, uid or None, "Warning", IGNORED_REASON, message, kind)
        )
    return True
