"""The cluster's free capacity as the gang start sees it: nodes, bound pods, reservations.

Read only while a group waits to start: the Nodes and the bound, unfinished pods of every
namespace are listed (at most once per `max_age` seconds, shared by every waiting
group), turned into `capacity` values, and a group that fits is reserved for
`reservation_seconds` on the nodes it was counted on, so two groups checked one after
the other are never both started on the same free GPUs before the scheduler has bound
the first one's pods. One check at a time (a lock): the reservations are always current.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from aijob_api.constants import GPU_RESOURCE

from aijob_operator.capacity import (
    Fit,
    NodeCapacity,
    PodRequest,
    Resources,
    fit_group,
    parse_quantity,
)

DEFAULT_MAX_AGE: Final = 2.0
DEFAULT_RESERVATION_SECONDS: Final = 30.0


class ClusterReader(Protocol):
    """The two lists the view reads (`KubeApi` has them)."""

    async def list_nodes(self) -> list[dict[str, Any]]:
        """Every Node."""
        ...

    async def list_bound_pods(self) -> list[dict[str, Any]]:
        """Every bound, unfinished pod."""
        ...


@dataclass(frozen=True)
class _Reservation:
    job_uid: str
    per_node: Mapping[str, Resources]
    until: float


def node_capacity(body: Mapping[str, Any]) -> NodeCapacity:
    """A Node as the API server returns it."""
    metadata = body.get("metadata") or {}
    spec = body.get("spec") or {}
    status = body.get("status") or {}
    allocatable = status.get("allocatable") or {}
    ready = any(
        item.get("type") == "Ready" and item.get("status") == "True"
        for item in status.get("conditions") or ()
    )
    return NodeCapacity(
        name=metadata.get("name", ""),
        allocatable=Resources(
            gpu=parse_quantity(allocatable.get(GPU_RESOURCE, 0)),
            cpu_milli=parse_quantity(allocatable.get("cpu", 0), milli=True),
            memory=parse_quantity(allocatable.get("memory", 0)),
        ),
        labels=dict(metadata.get("labels") or {}),
        taints=tuple(
            (taint.get("key", ""), taint.get("value"), taint.get("effect", ""))
            for taint in spec.get("taints") or ()
        ),
        schedulable=not spec.get("unschedulable"),
        ready=ready,
    )


def pod_usage(body: Mapping[str, Any]) -> tuple[str, Resources]:
    """(node, requests) of a bound pod: its containers' requests summed, or its largest init
    container's when that is more (as the scheduler counts)."""
    spec = body.get("spec") or {}

    def requested(containers: Sequence[Mapping[str, Any]]) -> list[Resources]:
        found = []
        for container in containers:
            requests = (container.get("resources") or {}).get("requests") or {}
            found.append(
                Resources(
                    gpu=parse_quantity(requests.get(GPU_RESOURCE, 0)),
                    cpu_milli=parse_quantity(requests.get("cpu", 0), milli=True),
                    memory=parse_quantity(requests.get("memory", 0)),
                )
            )
        return found

    total = sum(requested(spec.get("containers") or ()), Resources())
    for init in requested(spec.get("initContainers") or ()):
        total = Resources(
            max(total.gpu, init.gpu),
            max(total.cpu_milli, init.cpu_milli),
            max(total.memory, init.memory),
        )
    return spec.get("nodeName", ""), total


class CapacityView:
    """Checks and reserves room for whole groups."""

    def __init__(
        self,
        reader: ClusterReader,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        reservation_seconds: float = DEFAULT_RESERVATION_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._max_age = max_age
        self._reservation_seconds = reservation_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._snapshot: tuple[float, list[NodeCapacity], dict[str, Resources]] | None = None
        self._reservations: dict[str, _Reservation] = {}

    async def claim(self, job_uid: str, request: PodRequest, count: int) -> Fit:
        """Whether `count` pods of `request` fit now; when they do, the room is reserved for
        `job_uid` (the owner's uid: its own earlier reservation is not counted against it)."""
        async with self._lock:
            nodes, used = await self._read()
            now = self._clock()
            self._reservations = {
                uid: item for uid, item in self._reservations.items() if item.until > now
            }
            taken: dict[str, Resources] = defaultdict(Resources, used)
            for uid, reservation in self._reservations.items():
                if uid != job_uid:
                    for node, resources in reservation.per_node.items():
                        taken[node] = taken[node] + resources
            fit = fit_group(nodes, taken, request, count)
            if fit.fits:
                per_node = {node: request.resources.times(n) for node, n in fit.placement}
                self._reservations[job_uid] = _Reservation(
                    job_uid, per_node, now + self._reservation_seconds
                )
            return fit

    async def _read(self) -> tuple[list[NodeCapacity], dict[str, Resources]]:
        now = self._clock()
        if self._snapshot is not None and now - self._snapshot[0] < self._max_age:
            return self._snapshot[1], self._snapshot[2]
        nodes = [node_capacity(body) for body in await self._reader.list_nodes()]
        used: dict[str, Resources] = defaultdict(Resources)
        for body in await self._reader.list_bound_pods():
            node, resources = pod_usage(body)
            if node:
                used[node] = used[node] + resources
        self._snapshot = (self._clock(), nodes, dict(used))
        return nodes, dict(used)
