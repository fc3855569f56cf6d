"""Whether a whole group of identical pods fits the cluster now (pure): the gang start.

A distributed job's Job is created suspended and started only when all of its N pods can
be placed at once, so no pod holds a GPU while its peers wait. `fit_group` counts, per
schedulable node that the pod's node selector matches and whose NoSchedule/NoExecute
taints it tolerates, how many of the pods fit in what is free (allocatable minus the
requests of the pods bound there and of groups just started, `Reservation`), and says
whether the sum reaches N, with the numbers in words. The nodes' affinity rules of a
runtime are not evaluated here (the scheduler still places the pods by them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from aijob_api.constants import GPU_RESOURCE

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIXES: Final[Mapping[str, Decimal]] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_UNLIMITED: Final = 1 << 62

Toleration = tuple[str | None, str, str | None, str | None]
"""(key, operator, value, effect), as a pod writes a toleration."""
Taint = tuple[str, str | None, str]
"""(key, value, effect), as a node writes a taint."""


def parse_quantity(text: str | int | float, *, milli: bool = False) -> int:
    """A Kubernetes quantity as an integer (bytes, GPUs), or in thousandths with `milli`
    (CPU millicores); rounded up. ValueError naming the text when it is not one."""
    match = _QUANTITY.match(str(text).strip())
    if match is None or match.group(2) not in _SUFFIXES:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    value = Decimal(match.group(1)) * _SUFFIXES[match.group(2)] * (1000 if milli else 1)
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


@dataclass(frozen=True)
class Resources:
    """GPUs, CPU (millicores) and memory (bytes)."""

    gpu: int = 0
    cpu_milli: int = 0
    memory: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.gpu + other.gpu, self.cpu_milli + other.cpu_milli, self.memory + other.memory
        )

    def times(self, count: int) -> Resources:
        """`count` times these resources."""
        return Resources(self.gpu * count, self.cpu_milli * count, self.memory * count)


@dataclass(frozen=True)
class NodeCapacity:
    """What a node offers pods: its allocatable resources, labels and taints."""

    name: str
    allocatable: Resources
    labels: Mapping[str, str]
    taints: tuple[Taint, ...] = ()
    schedulable: bool = True
    ready: bool = True


@dataclass(frozen=True)
class PodRequest:
    """What one pod asks of a node: resources, node selector and tolerations."""

    resources: Resources
    node_selector: Mapping[str, str]
    tolerations: tuple[Toleration, ...] = ()

    def describe(self) -> str:
        """`8 nvidia.com/gpu, 500m cpu, 1Gi memory`: the request in words."""
        parts = [f"{self.resources.gpu} {GPU_RESOURCE}"] if self.resources.gpu else []
        parts.append(f"{self.resources.cpu_milli}m cpu")
        parts.append(f"{_mebibytes(self.resources.memory)} memory")
        return ", ".join(parts)


@dataclass(frozen=True)
class Fit:
    """The verdict on a group: whether all its pods fit now, and why not in words."""

    fits: bool
    placeable: int
    """How many of the pods fit now (at most the group's size)."""
    nodes: int
    """On how many nodes they would go."""
    message: str
    placement: tuple[tuple[str, int], ...] = ()
    """(node, pods) where they were counted, to reserve the room."""


def tolerates(tolerations: Sequence[Toleration], taint: Taint) -> bool:
    """Whether one of the tolerations tolerates the taint (Kubernetes' matching rules)."""
    key, value, effect = taint
    for t_key, operator, t_value, t_effect in tolerations:
        if t_effect is not None and t_effect != effect:
            continue
        if t_key is None and operator == "Exists":
            return True
        if t_key != key:
            continue
        if operator == "Exists" or (t_value or "") == (value or ""):
            return True
    return False


def node_matches(node: NodeCapacity, request: PodRequest) -> bool:
    """Whether the pod may go on the node at all: schedulable, ready, selector, taints."""
    if not node.schedulable or not node.ready:
        return False
    if any(node.labels.get(key) != value for key, value in request.node_selector.items()):
        return False
    hard = [taint for taint in node.taints if taint[2] in ("NoSchedule", "NoExecute")]
    return all(tolerates(request.tolerations, taint) for taint in hard)


def pods_that_fit(free: Resources, each: Resources) -> int:
    """How many pods asking `each` fit in `free`."""
    counts = [
        (have // want) if want > 0 else _UNLIMITED
        for have, want in (
            (free.gpu, each.gpu),
            (free.cpu_milli, each.cpu_milli),
            (free.memory, each.memory),
        )
    ]
    return max(0, min(counts))


def fit_group(
    nodes: Sequence[NodeCapacity],
    used: Mapping[str, Resources],
    request: PodRequest,
    count: int,
) -> Fit:
    """Whether `count` pods of `request` fit at once on `nodes`, given what is `used` per node."""
    placeable = 0
    placement: list[tuple[str, int]] = []
    matching = [
        node
        for node in nodes
        if node_matches(node, request) and pods_that_fit(node.allocatable, request.resources)
    ]
    for node in sorted(matching, key=lambda item: item.name):
        if placeable >= count:
            break
        taken = used.get(node.name, Resources())
        free = Resources(
            node.allocatable.gpu - taken.gpu,
            node.allocatable.cpu_milli - taken.cpu_milli,
            node.allocatable.memory - taken.memory,
        )
        here = min(pods_that_fit(free, request.resources), count - placeable)
        if here > 0:
            placeable += here
            placement.append((node.name, here))
    fits = placeable >= count
    if fits:
        message = f"all {count} pods fit at once on {len(placement)} node(s)"
    else:
        message = (
            f"needs {count} pods x ({request.describe()}) at once; "
            f"{len(matching)} node(s) able to run one can hold {placeable} of them now"
        )
    return Fit(
        fits=fits,
        placeable=placeable,
        nodes=len(placement),
        message=message,
        placement=tuple(placement),
    )


def _mebibytes(value: int) -> str:
    if value and value % 2**30 == 0:
        return f"{value // 2**30}Gi"
    return f"{-(-value // 2**20)}Mi"
