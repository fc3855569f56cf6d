"""The operator's process-wide state, kept in kopf's `memo` between start-up and clean-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lightkube import AsyncClient

from aijob_operator.config import OperatorConfig
from aijob_operator.endpoint_reconciler import EndpointReconciler
from aijob_operator.events import EventPoster
from aijob_operator.informer import ChildCache, ChildInformer
from aijob_operator.reconciler import ChildViews, Reconciler
from aijob_operator.replica_client import ReplicaClient
from aijob_operator.store import AIJobStore, EndpointStore, Key
from aijob_operator.workqueue import WorkQueue


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

    def healthy(self) -> bool:
        """Whether every informer, reconcile worker and event poster is still alive."""
        return all(not task.done() for task in self.workers)
