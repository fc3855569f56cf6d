"""Phases, condition types and reasons of an AIEndpoint's status.

An endpoint is never finished: every phase may follow every other as its model, its
spec and its pods change (a Failed endpoint whose model is fixed becomes Ready).
Conditions follow the standard Kubernetes shape, so
`kubectl wait --for=condition=Ready aiendpoint/NAME` works. Reasons are CamelCase
constants, each with its meaning.
"""

from enum import StrEnum
from typing import Final


class EndpointPhase(StrEnum):
    """The one-word state of an AIEndpoint, as `kubectl get aiendpoints` shows it."""

    PENDING = "Pending"
    """No replica is loading yet: the model waits for its training job, the Deployment is
    being created, or no node can take a replica (the message says which)."""
    LOADING = "Loading"
    """Replicas are starting and loading the model; none answers yet."""
    READY = "Ready"
    """Every desired replica serves the current model."""
    UPDATING = "Updating"
    """Some replicas serve while others start: a new model or setting rolls out, or the
    endpoint scales; no request fails meanwhile (maxUnavailable 0)."""
    DEGRADED = "Degraded"
    """Some replicas serve, others cannot (the message says why: a new model that does not
    load, no node for another replica, a crash)."""
    FAILED = "Failed"
    """No replica serves and none will without a change: the model is missing or does not
    load, the image is missing, the spec cannot be run. Not final: fixing it recovers."""


class EndpointConditionType(StrEnum):
    """Types of the conditions in an AIEndpoint's `status.conditions`."""

    MODEL_RESOLVED = "ModelResolved"
    """The model source names a stored model: a URI, or a training job that succeeded."""
    READY = "Ready"
    """At least one replica has loaded the model and answers requests."""
    ROLLED_OUT = "RolledOut"
    """Every desired replica runs the current model and settings and is ready."""


class EndpointReason:
    """Reasons used in an AIEndpoint's conditions and in `status.reason`."""

    WAITING_FOR_TRAINING_JOB: Final = "WaitingForTrainingJob"
    """The training AIJob named by `spec.model.source` has not succeeded (yet)."""
    TRAINING_JOB_NOT_FOUND: Final = "TrainingJobNotFound"
    """The training AIJob named does not exist in the namespace (after a grace period)."""
    TRAINING_JOB_FAILED: Final = "TrainingJobFailed"
    """The training AIJob named failed, was cancelled, recorded no model, or is no training."""
    MODEL_RESOLVED: Final = "ModelResolved"
    """The model to serve is known (a URI, or the training job's `results.modelUri`)."""
    INVALID_SPEC: Final = "InvalidSpec"
    """The spec passed the schema but cannot be run (no runtime, GPUs on a CPU-only image)."""
    NAME_TAKEN: Final = "NameTaken"
    """A Deployment, Service or ConfigMap of the endpoint's name exists and is not its own."""
    DEPLOYMENT_CREATED: Final = "DeploymentCreated"
    """The Deployment was created or changed; its pods are being created and scheduled."""
    PODS_NOT_CREATED: Final = "PodsNotCreated"
    """The Deployment cannot create pods (a quota, an admission refusal); the message says."""
    UNSCHEDULABLE: Final = "Unschedulable"
    """No node can take a replica (e.g. no node with a free GPU); the message names why."""
    IMAGE_MISSING: Final = "ImageMissing"
    """The runtime's image cannot be pulled."""
    MODEL_LOADING: Final = "ModelLoading"
    """Replicas are up and loading the model; readiness waits for it."""
    MODEL_LOAD_FAILED: Final = "ModelLoadFailed"
    """The model server refused the model (missing, corrupt, wrong type): its own words."""
    OOM_KILLED: Final = "OOMKilled"
    """A replica was killed for exceeding its memory limit."""
    SERVER_CRASHED: Final = "ServerCrashed"
    """The model server exits (not for its model): exit code and its last words."""
    ROLLING_OUT: Final = "RollingOut"
    """A new model or setting replaces the replicas one by one."""
    SCALING: Final = "Scaling"
    """Replicas are added or removed to reach `spec.replicas`."""
    SERVING: Final = "Serving"
    """Every desired replica serves the current model."""
    SCALED_UP: Final = "ScaledUp"
    """The builtin autoscaler raised `spec.replicas` for the load (an Event; the message says
    how many requests were outstanding)."""
    SCALED_DOWN: Final = "ScaledDown"
    """The builtin autoscaler lowered `spec.replicas` after the quiet period (an Event)."""


ENDPOINT_WARNING_REASONS: Final = frozenset(
    {
        EndpointReason.TRAINING_JOB_NOT_FOUND,
        EndpointReason.TRAINING_JOB_FAILED,
        EndpointReason.INVALID_SPEC,
        EndpointReason.NAME_TAKEN,
        EndpointReason.PODS_NOT_CREATED,
        EndpointReason.UNSCHEDULABLE,
        EndpointReason.IMAGE_MISSING,
        EndpointReason.MODEL_LOAD_FAILED,
        EndpointReason.OOM_KILLED,
        EndpointReason.SERVER_CRASHED,
    }
)
"""Reasons whose transition is a Warning event; the others are Normal."""
