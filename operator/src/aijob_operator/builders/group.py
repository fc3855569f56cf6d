"""The pieces of a distributed job's group (`spec.distributed`): Services, variables, request.

A group of N > 1 pods is one Indexed Job (`builders.job`). The local cluster has no
cluster DNS, so each rank gets its own ClusterIP Service `<name>-<rank>` selecting the
pod of that completion index (`publishNotReadyAddresses`: peers reach a rank before it is
ready), owned by the AIJob and created before the Job, whose pods then carry the
Services' addresses (`group_env`). The Services outlive the group's attempts, so a
restarted group finds its peers at the same addresses. `group_request` is what one pod
of the group asks of a node, for the gang start (`capacity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from aijob_api import contract
from aijob_api.distributed import group_shape
from aijob_api.resource import AIJob
from aijob_api.spec import AIJobSpec
from lightkube.models.core_v1 import EnvVar, ServicePort, ServiceSpec
from lightkube.resources.core_v1 import Service

from aijob_operator.builders.meta import child_metadata, selector_labels
from aijob_operator.builders.pod import (
    PodSettings,
    node_selector,
    resource_requirements,
    tolerations,
)
from aijob_operator.capacity import PodRequest, Resources, parse_quantity
from aijob_operator.catalog import ResolvedRuntime

COMPLETION_INDEX_LABEL: Final = "batch.kubernetes.io/job-completion-index"
"""The Job controller's label on each pod of an Indexed Job: its completion index (rank)."""
MAX_SERVICE_NAME: Final = 63
"""A Service's name is a DNS-1035 label."""


def group_size(spec: AIJobSpec) -> tuple[int, int]:
    """(nodes, processes per node) of a job, the defaults filled in."""
    return group_shape(spec.distributed, spec.resources.gpu)


def is_group(spec: AIJobSpec) -> bool:
    """Whether the job runs as a group of several pods (an Indexed Job of N > 1)."""
    return group_size(spec)[0] > 1


DIGIT_FIRST_PREFIX: Final = "job-"
"""Put before an AIJob name that starts with a digit (a DNS label may; a Service's name, a
DNS-1035 label, may not)."""


def rank_service_name(aijob_name: str, rank: int) -> str:
    """`<name>-<rank>`, the name cut so the whole stays a DNS-1035 label (`job-<name>-<rank>`
    for a name that starts with a digit)."""
    stem = aijob_name if aijob_name[:1].isalpha() else f"{DIGIT_FIRST_PREFIX}{aijob_name}"
    suffix = f"-{rank}"
    return f"{stem[: MAX_SERVICE_NAME - len(suffix)].rstrip('-')}{suffix}"


def build_rank_service(aijob: AIJob, runtime: ResolvedRuntime, rank: int) -> Service:
    """The ClusterIP Service that reaches the group's pod of rank `rank`."""
    name = aijob.metadata.name or ""
    return Service(
        metadata=child_metadata(aijob, rank_service_name(name, rank), runtime.framework),
        spec=ServiceSpec(
            type="ClusterIP",
            selector={**selector_labels(name), COMPLETION_INDEX_LABEL: str(rank)},
            publishNotReadyAddresses=True,
            ports=[
                ServicePort(
                    name=contract.RENDEZVOUS_PORT_NAME,
                    port=contract.RENDEZVOUS_PORT,
                    targetPort=contract.RENDEZVOUS_PORT,
                    protocol="TCP",
                )
            ],
        ),
    )


def group_env(spec: AIJobSpec, addresses: Sequence[str]) -> list[EnvVar]:
    """The group's variables (none for one pod of one process); `addresses`: the rank
    Services' ClusterIPs in rank order, one per node when N > 1."""
    nodes, processes = group_size(spec)
    if nodes == 1 and processes == 1:
        return []
    env = [
        EnvVar(name=contract.ENV_NODES, value=str(nodes)),
        EnvVar(name=contract.ENV_PROCESSES_PER_NODE, value=str(processes)),
    ]
    if nodes == 1:
        return env
    if len(addresses) != nodes or not all(addresses):
        raise ValueError(f"a group of {nodes} pods needs {nodes} addresses, got {list(addresses)}")
    port = contract.RENDEZVOUS_PORT
    return [
        *env,
        EnvVar(name=contract.ENV_MASTER_ADDR, value=addresses[0]),
        EnvVar(name=contract.ENV_MASTER_PORT, value=str(port)),
        EnvVar(
            name=contract.ENV_WORKER_HOSTS,
            value=",".join(f"{address}:{port}" for address in addresses),
        ),
    ]


def group_request(aijob: AIJob, runtime: ResolvedRuntime, settings: PodSettings) -> PodRequest:
    """What each pod of the group asks of a node: the Job's own requests and placement."""
    spec = aijob.spec
    gpus = spec.resources.gpu
    requests = resource_requirements(spec.resources, runtime).requests or {}
    return PodRequest(
        resources=Resources(
            gpu=gpus,
            cpu_milli=parse_quantity(requests.get("cpu", "0"), milli=True),
            memory=parse_quantity(requests.get("memory", "0")),
        ),
        node_selector=node_selector(runtime, settings, gpus, spec.placement),
        tolerations=tuple(
            (item.key, item.operator or "Equal", item.value, item.effect)
            for item in tolerations(runtime, settings, gpus)
        ),
    )


def deadline_left(aijob: AIJob, now: datetime) -> int | None:
    """What is left of `timeoutSeconds` for a group's next attempt (a Job's deadline counts
    from its own start: the whole job's limit is kept across the group's Jobs); None for a
    first attempt or no limit. At least 1 second: a spent limit ends the new Job at once."""
    timeout = aijob.spec.timeout_seconds
    started = aijob.status.start_time
    if timeout is None or started is None or aijob.status.group is None:
        return None
    if not (aijob.status.group.restarts or aijob.status.group.disruptions):
        return None
    return max(1, timeout - int((now - started).total_seconds()))
