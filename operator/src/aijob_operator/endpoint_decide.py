"""The reconcile decision for one AIEndpoint: which children to write, and which status to show.

Pure: `decide_endpoint` takes everything the operator knows about an endpoint (its spec
and status, the training job its model comes from, the runtime, its children's views,
the time) and returns the children to create or apply and the status the endpoint
should have. The reconciler performs the writes, and writes the status only when
`endpoint_status_patch` is not empty.

The model to serve is the training job's latest (or the URI); while the training job
has no model to give (it is re-run, or was deleted) an endpoint that already serves
keeps its model: retraining never takes a serving endpoint down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Literal

from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_conditions import (
    ENDPOINT_WARNING_REASONS,
    EndpointConditionType,
    EndpointPhase,
    EndpointReason,
)
from aijob_api.endpoint_scaling import AutoscalingStatus
from aijob_api.endpoint_status import (
    ENDPOINT_OPERATOR_STATUS_FIELDS,
    AIEndpointStatus,
    EndpointCondition,
    ServedModel,
)
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Service

from aijob_operator.builders.endpoint_config import build_config_map
from aijob_operator.builders.endpoint_deployment import build_deployment
from aijob_operator.builders.endpoint_meta import (
    EndpointTarget,
    applied_hash,
    endpoint_url,
    selector,
)
from aijob_operator.builders.endpoint_service import build_service
from aijob_operator.builders.pod import PodSettings
from aijob_operator.catalog import ResolvedRuntime
from aijob_operator.dependency import Dependency, DependencyState
from aijob_operator.endpoint_observe import EndpointObserved, describe_model, observe_endpoint
from aijob_operator.endpoint_views import DeploymentView, EndpointPodView, OwnedView
from aijob_operator.transitions import (
    TransitionEvent,
    changed_fields,
    transition_event,
    transition_time,
)

Child = ConfigMap | Service | Deployment


class ChildKind(StrEnum):
    """The kinds of an endpoint's children, in the order they are written."""

    CONFIG_MAP = "ConfigMap"
    SERVICE = "Service"
    DEPLOYMENT = "Deployment"


class Write(StrEnum):
    """How a child is written."""

    CREATE = "create"
    """It is not there: create it (a namesake that is not the endpoint's stays untouched)."""
    APPLY = "apply"
    """It is the endpoint's and differs from what is built: server-side apply."""


@dataclass(frozen=True)
class ChildWrite:
    """One child to write."""

    kind: ChildKind
    write: Write
    child: Child


@dataclass(frozen=True)
class EndpointInputs:
    """Everything known about one AIEndpoint at one moment."""

    endpoint: AIEndpoint
    now: datetime
    dependency: Dependency
    runtime: ResolvedRuntime | None = None
    runtime_error: str | None = None
    model_type: str | None = None
    settings: PodSettings = field(default_factory=PodSettings)
    children: dict[ChildKind, OwnedView | DeploymentView] = field(default_factory=dict)
    """The children the caches know, by kind (any owner)."""
    pods: Sequence[EndpointPodView] = ()
    name_taken: str | None = None
    """A child of the endpoint's name that another owner controls, in words."""
    recheck_seconds: float = 60.0
    autoscaling: AutoscalingStatus | None = None
    """The autoscaler's decision to show (`endpoint_autoscale.decide_scale`)."""


@dataclass(frozen=True)
class EndpointDecision:
    """What to write, and the status the endpoint should show."""

    writes: tuple[ChildWrite, ...]
    status: AIEndpointStatus
    requeue_after: float | None = None


OPERATOR_FIELDS: Final = ENDPOINT_OPERATOR_STATUS_FIELDS


def decide_endpoint(inputs: EndpointInputs) -> EndpointDecision:
    """Decide the writes and the desired status of one AIEndpoint."""
    endpoint = inputs.endpoint
    name = endpoint.metadata.name or ""
    deployment = _owned_deployment(inputs)
    seen = (
        observe_endpoint(endpoint.spec, deployment, inputs.pods)
        if deployment is not None
        else EndpointObserved(EndpointPhase.PENDING, "", "", None)
    )
    model = _model_to_serve(inputs.dependency, deployment)
    resolved = inputs.dependency.state in (DependencyState.READY, DependencyState.NONE)
    wait = inputs.recheck_seconds
    if inputs.dependency.retry_after is not None:
        wait = min(wait, inputs.dependency.retry_after + 0.5)

    if inputs.runtime_error is not None:
        message = inputs.runtime_error
        if deployment is not None:
            message += "; the running replicas keep their previous settings"
        observed = replace(
            seen, phase=EndpointPhase.FAILED, reason=EndpointReason.INVALID_SPEC, message=message
        )
        return EndpointDecision((), _status(inputs, observed), wait)
    if model is None:
        phase, reason = _unresolved(inputs.dependency)
        observed = replace(seen, phase=phase, reason=reason, message=inputs.dependency.message)
        return EndpointDecision((), _status(inputs, observed), wait)

    writes: tuple[ChildWrite, ...] = ()
    name_taken = inputs.name_taken or _foreign_child(inputs)
    if inputs.runtime is not None and name_taken is None:
        target = EndpointTarget(endpoint, inputs.runtime, model, inputs.model_type, inputs.settings)
        writes = plan_writes(inputs, target)
    if name_taken is not None:
        message = f"{name_taken} and is not owned by this AIEndpoint; waiting for it to go"
        observed = replace(
            seen, phase=EndpointPhase.PENDING, reason=EndpointReason.NAME_TAKEN, message=message
        )
    elif deployment is None:
        message = f"creating Deployment {name} to serve {describe_model(model)}"
        observed = replace(seen, reason=EndpointReason.DEPLOYMENT_CREATED, message=message)
    elif not resolved and inputs.dependency.message:
        message = (
            f"{seen.message}; {inputs.dependency.message}, so the replicas keep serving the "
            "model they have"
        )
        observed = replace(seen, message=message)
    else:
        observed = seen
    return EndpointDecision(writes, _status(inputs, observed), wait)


def plan_writes(inputs: EndpointInputs, target: EndpointTarget) -> tuple[ChildWrite, ...]:
    """The children to create (absent) or apply (the endpoint's, built differently)."""
    built: dict[ChildKind, Child] = {
        ChildKind.CONFIG_MAP: build_config_map(target),
        ChildKind.SERVICE: build_service(target),
        ChildKind.DEPLOYMENT: build_deployment(target),
    }
    uid = inputs.endpoint.metadata.uid
    writes = []
    for kind, child in built.items():
        view = inputs.children.get(kind)
        if view is None:
            writes.append(ChildWrite(kind, Write.CREATE, child))
        elif view.owner_uid == uid and view.applied_hash != applied_hash(child):
            writes.append(ChildWrite(kind, Write.APPLY, child))
    return tuple(writes)


def _foreign_child(inputs: EndpointInputs) -> str | None:
    """`a Service named iris exists` when a child of the endpoint's name has another owner."""
    uid = inputs.endpoint.metadata.uid
    for kind, view in inputs.children.items():
        if view.owner_uid != uid:
            return f"a {kind.value} named {view.name} exists"
    return None


def _owned_deployment(inputs: EndpointInputs) -> DeploymentView | None:
    view = inputs.children.get(ChildKind.DEPLOYMENT)
    if isinstance(view, DeploymentView) and view.owner_uid == inputs.endpoint.metadata.uid:
        return view
    return None


def _model_to_serve(
    dependency: Dependency, deployment: DeploymentView | None
) -> ServedModel | None:
    """The resolved model; while there is none to give, the one the Deployment has."""
    if dependency.state is DependencyState.READY and dependency.model_uri:
        return ServedModel(
            uri=dependency.model_uri,
            checksum=dependency.model_checksum,
            training_job=dependency.training_job,
            training_job_uid=dependency.training_job_uid,
        )
    return deployment.model if deployment is not None else None


def _unresolved(dependency: Dependency) -> tuple[EndpointPhase, str]:
    if dependency.state is DependencyState.WAITING:
        return EndpointPhase.PENDING, EndpointReason.WAITING_FOR_TRAINING_JOB
    if not dependency.found:
        return EndpointPhase.FAILED, EndpointReason.TRAINING_JOB_NOT_FOUND
    return EndpointPhase.FAILED, EndpointReason.TRAINING_JOB_FAILED


def _status(inputs: EndpointInputs, observed: EndpointObserved) -> AIEndpointStatus:
    """The desired status: operator-owned fields recomputed, the gateway's untouched."""
    endpoint = inputs.endpoint
    current = endpoint.status
    name = endpoint.metadata.name or ""
    namespace = endpoint.metadata.namespace or ""
    update: dict[str, Any] = {
        "phase": observed.phase,
        "reason": observed.reason,
        "message": observed.message,
        "replicas": observed.replicas,
        "ready_replicas": observed.ready,
        "updated_replicas": observed.updated,
        "selector": selector(name),
        "model": observed.served,
        "url": endpoint_url(name, namespace) if _service_is_ours(inputs) else None,
        "observed_generation": endpoint.metadata.generation,
        "autoscaling": inputs.autoscaling,
    }
    if inputs.runtime is not None:
        update["framework"] = inputs.runtime.framework
        update["framework_version"] = inputs.runtime.version
        update["image"] = inputs.runtime.runtime.image
    update["conditions"] = _conditions(inputs, observed, observed.ready)
    return current.model_copy(update=update)


def _service_is_ours(inputs: EndpointInputs) -> bool:
    view = inputs.children.get(ChildKind.SERVICE)
    return view is not None and view.owner_uid == inputs.endpoint.metadata.uid


def _conditions(
    inputs: EndpointInputs, observed: EndpointObserved, ready: int
) -> list[EndpointCondition]:
    """ModelResolved, Ready and RolledOut; a transition time moves only when one flips."""
    dependency = inputs.dependency
    resolved = dependency.state in (DependencyState.READY, DependencyState.NONE)
    model_reason = EndpointReason.MODEL_RESOLVED if resolved else _unresolved(dependency)[1]
    model_message = (
        describe_model(_model_to_serve(dependency, None)) if resolved else (dependency.message)
    )
    truth: dict[EndpointConditionType, tuple[bool, str, str]] = {
        EndpointConditionType.MODEL_RESOLVED: (resolved, model_reason, model_message),
        EndpointConditionType.READY: (
            ready > 0,
            EndpointReason.SERVING if ready > 0 else observed.reason,
            f"{ready} replica(s) ready" if ready > 0 else observed.message,
        ),
        EndpointConditionType.ROLLED_OUT: (
            observed.phase is EndpointPhase.READY,
            observed.reason,
            observed.message,
        ),
    }
    before = {condition.type: condition for condition in inputs.endpoint.status.conditions}
    now = inputs.now.replace(microsecond=0)
    conditions = []
    for type_, (is_true, reason, message) in truth.items():
        status: Literal["True", "False"] = "True" if is_true else "False"
        conditions.append(
            EndpointCondition(
                type=type_,
                status=status,
                reason=reason,
                message=message,
                last_transition_time=transition_time(before.get(type_), status, now),
                observed_generation=inputs.endpoint.metadata.generation,
            )
        )
    return conditions


def endpoint_status_patch(current: AIEndpointStatus, desired: AIEndpointStatus) -> dict[str, Any]:
    """The merge patch (camelCase) of the operator-owned fields that differ; empty if none."""
    return changed_fields(current, desired, OPERATOR_FIELDS)


def endpoint_event(current: AIEndpointStatus, desired: AIEndpointStatus) -> TransitionEvent | None:
    """The Event for a change of phase or reason; None when neither changed."""
    return transition_event(current, desired, ENDPOINT_WARNING_REASONS)
