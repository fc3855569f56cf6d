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
from aijob_operator.informer import ChildInformer
from aijob_operator.reconciler import Reconciler
from aijob_operator.store import AIJobStore, EndpointStore, Key
from aijob_operator.workqueue import WorkQueue


@dataclass
class EndpointState:
    """The AIEndpoints' share: their store, work queue, reconciler and child informers."""

    store: EndpointStore
    queue: WorkQueue[Key]
    reconciler: EndpointReconciler
    informers: list[ChildInformer] = field(default_factory=list)


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

    def healthy(self) -> bool:
        """Whether every informer, reconcile worker and event poster is still alive."""
        return all(not task.done() for task in self.workers)
