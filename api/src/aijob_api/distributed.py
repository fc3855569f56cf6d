"""Multi-GPU and multi-node training: how many pods a job runs and processes in each.

`spec.distributed` is optional. `nodes` is the number of pods of the job's group (an
Indexed Job of that many pods, started together, restarted together, done when rank 0
succeeds: docs/operator.md); `processesPerNode` the number of processes each pod starts
(torchrun's `--nproc-per-node`), by default one per GPU the pod asks for, else one.
Only training jobs on a framework whose workers can run as a group (`GROUP_FRAMEWORKS`)
may ask for more than one of either, several nodes only for your own code (`spec.code`:
the built-in runners train in one pod); a pod cannot run more processes than its GPUs
when it asks for GPUs. The rules live here, attached to the spec by `aijob_api.spec`, and
`distributed_problem` mirrors them for clients.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import Field

from aijob_api.routing import MODEL_TYPES, Framework, route_framework
from aijob_api.wire import WireModel

MAX_NODES: Final = 64
"""Most pods one job's group may have."""
MAX_PROCESSES_PER_NODE: Final = 64
"""Most processes one pod may start (as many as `compute.MAX_GPUS`)."""
GROUP_FRAMEWORKS: Final = (Framework.PYTORCH, Framework.TENSORFLOW)
"""The frameworks whose workers run as a group (torchrun; MultiWorkerMirroredStrategy)."""


class DistributedSpec(WireModel):
    """How many pods (nodes) the job runs, and how many processes each pod starts."""

    nodes: Annotated[
        int,
        Field(
            description=(
                "Pods of the job's group, started together when all fit, restarted together "
                "when one fails (one retry), done when rank 0 succeeds. Training on pytorch "
                "or tensorflow only when above 1."
            ),
            ge=1,
            le=MAX_NODES,
        ),
    ] = 1
    processes_per_node: Annotated[
        int | None,
        Field(
            description=(
                "Processes each pod starts (torchrun's --nproc-per-node); by default one per "
                "GPU of spec.resources.gpu, else 1. At most spec.resources.gpu when that is "
                "above 0."
            ),
            ge=1,
            le=MAX_PROCESSES_PER_NODE,
        ),
    ] = None


def _elsewhere_routed() -> list[str]:
    return sorted(t.name for t in MODEL_TYPES if t.routed_to not in GROUP_FRAMEWORKS)


def _framework_rule() -> str:
    frameworks = ", ".join(f"'{f.value}'" for f in GROUP_FRAMEWORKS)
    others = ", ".join(f"'{name}'" for name in _elsewhere_routed())
    return (
        f"has(self.framework) ? self.framework in [{frameworks}] : "
        f"!(has(self.model.type) && self.model.type in [{others}])"
    )


_MANY = (
    "has(self.distributed) && (self.distributed.nodes > 1 || "
    "(has(self.distributed.processesPerNode) && self.distributed.processesPerNode > 1))"
)
_GROUP_NAMES = " or ".join(f.value for f in GROUP_FRAMEWORKS)

DISTRIBUTED_SPEC_RULES: Final[tuple[dict[str, Any], ...]] = (
    {
        "rule": f"!({_MANY}) || self.task == 'training'",
        "message": "spec.distributed: more than one node or process is for training jobs only",
        "fieldPath": ".distributed",
    },
    {
        "rule": f"!({_MANY}) || ({_framework_rule()})",
        "message": f"spec.distributed: more than one node or process needs framework "
        f"{_GROUP_NAMES}",
        "fieldPath": ".distributed",
    },
    {
        "rule": "!has(self.distributed) || self.distributed.nodes == 1 || has(self.code)",
        "message": "spec.distributed.nodes: more than one node runs your own distributed code "
        "(spec.code); the built-in runners train in one pod",
        "fieldPath": ".distributed.nodes",
    },
    {
        "rule": "!has(self.distributed) || !has(self.distributed.processesPerNode) || "
        "!has(self.resources.gpu) || self.resources.gpu == 0 || "
        "self.distributed.processesPerNode <= self.resources.gpu",
        "message": "spec.distributed.processesPerNode cannot exceed spec.resources.gpu "
        "(one process per GPU at most)",
        "fieldPath": ".distributed.processesPerNode",
    },
)
"""The AIJob spec's CEL rules about `distributed` (attached by `aijob_api.spec`)."""


def group_shape(distributed: DistributedSpec | None, gpus: int) -> tuple[int, int]:
    """(nodes, processes per node) of a job: what it asks, the defaults filled in."""
    nodes = distributed.nodes if distributed else 1
    explicit = distributed.processes_per_node if distributed else None
    return nodes, explicit or max(gpus, 1)


def distributed_problem(
    *,
    task: str,
    distributed: DistributedSpec | None,
    gpus: int,
    framework: Framework | None,
    model_type: str | None,
    has_code: bool = True,
) -> str | None:
    """The first rule about `distributed` a spec breaks, naming the field, or None."""
    if distributed is None:
        return None
    processes = distributed.processes_per_node
    if gpus > 0 and processes is not None and processes > gpus:
        return (
            f"distributed.processesPerNode: {processes} processes asked for, but the pod has "
            f"{gpus} GPU(s) (spec.resources.gpu): one process per GPU at most"
        )
    if distributed.nodes == 1 and (processes or 1) == 1:
        return None
    if task != "training":
        return "distributed: more than one node or process is for training jobs only"
    resolved = route_framework(model_type or "", framework)
    if resolved not in GROUP_FRAMEWORKS:
        return (
            f"distributed: more than one node or process needs framework {_GROUP_NAMES}; "
            f"this job runs on {resolved.value}"
        )
    if distributed.nodes > 1 and not has_code:
        return (
            "distributed.nodes: more than one node runs your own distributed code (spec.code); "
            "the built-in runners train in one pod"
        )
    return None


class GroupStatus(WireModel):
    """A distributed job's group as the operator sees it (`status.group`)."""

    nodes: Annotated[int, Field(description="Pods of the group (spec.distributed.nodes).", ge=1)]
    processes_per_node: Annotated[
        int, Field(description="Processes each pod starts (defaults filled in).", ge=1)
    ]
    pods: Annotated[
        int, Field(description="Pods of the current attempt that exist and have not ended.", ge=0)
    ] = 0
    running: Annotated[
        int, Field(description="Pods of the current attempt whose worker runs.", ge=0)
    ] = 0
    restarts: Annotated[
        int,
        Field(
            description="Times the whole group was restarted because one of its pods failed "
            "(each one retry of retryPolicy.maxRetries).",
            ge=0,
        ),
    ] = 0
    disruptions: Annotated[
        int,
        Field(
            description="Times the whole group was restarted because one of its pods was "
            "preempted or evicted (no retry spent).",
            ge=0,
        ),
    ] = 0
    ended_job: Annotated[
        str | None,
        Field(
            description="The uid of the Job of the attempt being ended, until a new one starts.",
            max_length=64,
        ),
    ] = None
