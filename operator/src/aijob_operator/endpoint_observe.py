"""What an endpoint's Deployment and pods say, in the endpoint's words: phase, reason, message.

`observe_endpoint` is a pure function of the Deployment's view and its pods' (level-based:
the same cluster state always gives the same answer). The message says why in words: the
scheduler's own words and "no node with a free GPU" when a replica cannot be placed,
"image missing", "model failed to load: <the server's last words>", OOMKilled with the
memory limit, the exit code of a server that keeps exiting.

Phases: no replica ready and trouble that will not pass by itself is Failed (not a crash
loop hidden behind Pending); no node for any replica is Pending; pods starting or
loading are Loading; some replicas serving while others fail is Degraded; serving while
a new template rolls out or replicas come and go is Updating; every desired replica of
the current template ready is Ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aijob_api import contract
from aijob_api.constants import GPU_RESOURCE
from aijob_api.endpoint_conditions import EndpointPhase, EndpointReason
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.endpoint_status import ServedModel

from aijob_operator.endpoint_views import DeploymentView, EndpointPodView

IMAGE_ERRORS: Final = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
"""Waiting reasons of a container whose image cannot be had."""
_SEVERITY: Final = (
    EndpointReason.MODEL_LOAD_FAILED,
    EndpointReason.OOM_KILLED,
    EndpointReason.SERVER_CRASHED,
    EndpointReason.IMAGE_MISSING,
    EndpointReason.PODS_NOT_CREATED,
    EndpointReason.UNSCHEDULABLE,
)
"""Troubles by what a reader most needs to know first."""


@dataclass(frozen=True)
class Trouble:
    """Why a replica does not serve, in words."""

    reason: str
    message: str


@dataclass(frozen=True)
class EndpointObserved:
    """The endpoint's state as its Deployment and pods show it."""

    phase: EndpointPhase
    reason: str
    message: str
    served: ServedModel | None
    """The model the ready pods serve (the older one while a rollout is under way)."""
    replicas: int = 0
    """Pods not being deleted, of any template."""
    ready: int = 0
    updated: int = 0
    """Pods of the current template."""


def observe_endpoint(
    spec: AIEndpointSpec, deployment: DeploymentView, pods: Sequence[EndpointPodView]
) -> EndpointObserved:
    """The phase of an endpoint, given its Deployment and that Deployment's pods.

    The numbers come from the pods (one informer, so they agree with each other); the
    Deployment gives the replicas wanted, the current template and its own failures.
    """
    live = [pod for pod in pods if not pod.pod.deleting]
    ready = [pod for pod in live if pod.ready]
    current = [pod for pod in live if pod.revision == deployment.revision]
    served = _served(ready, deployment)

    def seen(phase: EndpointPhase, reason: str, message: str) -> EndpointObserved:
        return EndpointObserved(
            phase,
            reason,
            message,
            served if ready else None,
            replicas=len(live),
            ready=len(ready),
            updated=len(current),
        )

    trouble = diagnose(spec, deployment, [pod for pod in current if not pod.ready])
    desired = deployment.desired
    if not ready:
        if trouble is None:
            return seen(*_starting(deployment, live))
        if trouble.reason == EndpointReason.UNSCHEDULABLE:
            return seen(EndpointPhase.PENDING, trouble.reason, trouble.message)
        return seen(EndpointPhase.FAILED, trouble.reason, trouble.message)
    serving = f"{len(ready)} of {desired} replica(s) ready"
    if trouble is not None:
        return seen(EndpointPhase.DEGRADED, trouble.reason, f"{serving}; {trouble.message}")
    rolling = len(current) < len(live)
    if not rolling and len(live) == desired and all(pod.ready for pod in current):
        message = f"{serving}, serving {describe_model(served)}"
        return seen(EndpointPhase.READY, EndpointReason.SERVING, message)
    if rolling:
        message = (
            f"rolling out {describe_model(deployment.model)}: {len(current)} of "
            f"{desired} replica(s) updated, {len(ready)} ready"
        )
        return seen(EndpointPhase.UPDATING, EndpointReason.ROLLING_OUT, message)
    message = f"scaling to {desired} replica(s): {len(ready)} ready, {len(live)} running"
    return seen(EndpointPhase.UPDATING, EndpointReason.SCALING, message)


def diagnose(
    spec: AIEndpointSpec, deployment: DeploymentView, pods: Sequence[EndpointPodView]
) -> Trouble | None:
    """The worst reason why replicas of the current template do not serve; None if none."""
    found = [trouble for pod in pods if (trouble := _pod_trouble(spec, pod)) is not None]
    failure = deployment.condition("ReplicaFailure")
    if failure is not None and failure.status == "True":
        found.append(
            Trouble(
                EndpointReason.PODS_NOT_CREATED,
                f"the Deployment cannot create pods: {failure.message or failure.reason}",
            )
        )
    if not found:
        return None
    return min(found, key=lambda trouble: _SEVERITY.index(trouble.reason))


def _pod_trouble(spec: AIEndpointSpec, view: EndpointPodView) -> Trouble | None:
    pod = view.pod
    ended = view.last_exit
    if ended is not None and (view.restarts > 0 or pod.phase == "Failed"):
        if ended.reason == "OOMKilled":
            limit = spec.resources.memory or "the runtime default"
            return Trouble(
                EndpointReason.OOM_KILLED,
                f"the model server ran out of memory: pod {pod.name} was OOMKilled "
                f"(memory limit {limit}); raise spec.resources.memory",
            )
        words = _last_line(ended.message)
        if ended.exit_code == contract.EXIT_BAD_INPUT:
            return Trouble(
                EndpointReason.MODEL_LOAD_FAILED,
                f"model failed to load: {words or 'see the logs of pod ' + pod.name}",
            )
        return Trouble(
            EndpointReason.SERVER_CRASHED,
            f"the model server in pod {pod.name} exited with code {ended.exit_code}"
            f"{f' ({ended.reason})' if ended.reason else ''}{f': {words}' if words else ''}; "
            f"restarted {view.restarts} time(s)",
        )
    waiting_reason = (pod.waiting or "").split(":", 1)[0]
    if waiting_reason in IMAGE_ERRORS:
        return Trouble(
            EndpointReason.IMAGE_MISSING, f"image missing: pod {pod.name} waits: {pod.waiting}"
        )
    if pod.unschedulable:
        gpus = spec.resources.gpu
        if gpus and GPU_RESOURCE in pod.unschedulable:
            what = f"no node with a free GPU ({gpus} per replica)"
        else:
            what = "no node can take the replica"
        return Trouble(
            EndpointReason.UNSCHEDULABLE,
            f"{what}: pod {pod.name} cannot be scheduled: {pod.unschedulable}",
        )
    return None


def _starting(
    deployment: DeploymentView, live: Sequence[EndpointPodView]
) -> tuple[EndpointPhase, str, str]:
    """No replica is ready and none is in trouble: being created, scheduled or loading."""
    placed = [pod for pod in live if pod.pod.node_name]
    if not placed:
        message = (
            f"Deployment {deployment.name} is creating and scheduling {deployment.desired} "
            "replica(s)"
        )
        return EndpointPhase.PENDING, EndpointReason.DEPLOYMENT_CREATED, message
    running = [pod for pod in placed if pod.pod.phase == "Running"]
    if running:
        message = f"{len(running)} replica(s) loading {describe_model(deployment.model)}"
    else:
        pod = placed[-1].pod
        waiting = f": {pod.waiting}" if pod.waiting else ""
        message = f"pod {pod.name} is starting on node {pod.node_name}{waiting}"
    return EndpointPhase.LOADING, EndpointReason.MODEL_LOADING, message


def _served(ready: Sequence[EndpointPodView], deployment: DeploymentView) -> ServedModel | None:
    """What the ready pods serve: the older model while new and old pods both serve."""
    if not ready:
        return None
    older = [pod for pod in ready if pod.revision != deployment.revision]
    return (older or ready)[0].model


def describe_model(model: ServedModel | None) -> str:
    """`model of training job iris (sha256 5b0c1d2e...)`, or the URI."""
    if model is None:
        return "the model"
    checksum = f" (sha256 {model.checksum[:12]}…)" if model.checksum else ""
    if model.training_job:
        return f"the model of training job {model.training_job}{checksum}"
    return f"{model.uri}{checksum}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
