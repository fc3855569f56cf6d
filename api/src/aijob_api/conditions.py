"""Condition types, reasons and phases of an AIJob's status.

Conditions follow the standard Kubernetes shape (type, status, reason, message,
lastTransitionTime, observedGeneration), so `kubectl wait --for=condition=Succeeded`
works. Reasons are CamelCase constants, each with its meaning.
"""

from enum import StrEnum
from typing import Final


class Phase(StrEnum):
    """The one-word state of an AIJob, as `kubectl get aijobs` shows it."""

    PENDING = "Pending"
    """Accepted; its Job is being created or waits on a dependency (a training job)."""
    QUEUED = "Queued"
    """The Job exists but no pod runs: unschedulable, preempted, or held by Kueue."""
    RUNNING = "Running"
    """A worker pod is running."""
    RETRYING = "Retrying"
    """An attempt failed with a retryable error; the next one waits for its back-off."""
    SUCCEEDED = "Succeeded"
    """The worker finished and its results are in the status."""
    FAILED = "Failed"
    """No further attempt will be made; the message says why."""
    CANCELLED = "Cancelled"
    """Cancelled by a user; the pods were stopped and the record stays."""

    @property
    def finished(self) -> bool:
        """Whether no further change will come to this job."""
        return self in FINISHED_PHASES


FINISHED_PHASES: Final = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED})


class ConditionType(StrEnum):
    """Types of the conditions in `status.conditions`."""

    CREATED = "Created"
    """The child Job was created."""
    QUEUED = "Queued"
    """True while the job waits for resources or admission."""
    RUNNING = "Running"
    """True while a worker pod runs."""
    SUCCEEDED = "Succeeded"
    """True once the job succeeded."""
    FAILED = "Failed"
    """True once the job failed for good."""
    CANCELLED = "Cancelled"
    """True once the job was cancelled."""
    STALLED = "Stalled"
    """True while the worker has not reported for longer than its limit (`spec.stall`), and
    on a job failed for it; present only once a job has stalled."""


class Reason:
    """Reasons used in conditions and in `status.reason`."""

    JOB_CREATED: Final = "JobCreated"
    """The operator created the child Job."""
    WAITING_FOR_DEPENDENCY: Final = "WaitingForTrainingJob"
    """Inference waits for the training AIJob it names to succeed."""
    UNSCHEDULABLE: Final = "Unschedulable"
    """The scheduler found no node with enough resources; the message names them."""
    ADMISSION_PENDING: Final = "WaitingForAdmission"
    """Kueue holds the Job suspended until its queue admits it."""
    INSUFFICIENT_CAPACITY: Final = "InsufficientCapacity"
    """A distributed job's group waits, suspended, until all its pods fit at once (no pod
    exists, no GPU is held); the message says how many pods of what the nodes can hold."""
    PREEMPTED: Final = "Preempted"
    """A higher-priority job preempted this one's pod; it waits again, no retry spent."""
    POD_PENDING: Final = "PodPending"
    """A pod exists and waits to start (image, volumes, scheduling in progress)."""
    NO_TENANT_STORE: Final = "NoTenantStore"
    """The pod waits for the Secret `aijob-storage`: the namespace has no object store yet
    (an admin runs `python -m aijob_operator.tenants add NAMESPACE`); it starts once it does."""
    POD_RUNNING: Final = "PodRunning"
    """The worker container is running."""
    ATTEMPT_FAILED: Final = "AttemptFailed"
    """An attempt failed with a retryable exit code; another follows."""
    COMPLETED: Final = "Completed"
    """The worker exited 0."""
    BACKOFF_LIMIT_EXCEEDED: Final = "BackoffLimitExceeded"
    """Every allowed attempt failed."""
    BAD_INPUT: Final = "BadInput"
    """The worker exited with the bad-input code: retrying cannot help."""
    OOM_KILLED: Final = "OOMKilled"
    """The worker was killed for exceeding its memory limit."""
    DEADLINE_EXCEEDED: Final = "DeadlineExceeded"
    """The job ran longer than `spec.timeoutSeconds`."""
    CANCELLED: Final = "CancelledByUser"
    """`spec.cancel` was set."""
    INVALID_SPEC: Final = "InvalidSpec"
    """The spec passed the schema but cannot be run (e.g. no runtime for the framework, or a
    URI outside the tenant's own store: the message names the field)."""
    DEPENDENCY_FAILED: Final = "TrainingJobFailed"
    """The training AIJob an inference job depends on failed or does not exist."""
    JOB_LOST: Final = "JobLost"
    """The child Job disappeared while the AIJob was not finished; it is not re-created."""
    JOB_NAME_TAKEN: Final = "JobNameTaken"
    """A Job with this AIJob's name exists and is not owned by it; the operator waits for it."""
    IDENTITY_TAKEN: Final = "IdentityTaken"
    """The job's ServiceAccount, Role or RoleBinding exists and is not this AIJob's: its pods
    would run as someone else, so none is started."""
    WAITING_FOR_IDENTITY: Final = "WaitingForIdentity"
    """The job's identity objects still belong to a deleted AIJob of the same name; the
    operator waits for the garbage collector to remove them."""
    SUSPENDED: Final = "JobSuspended"
    """Someone suspended the child Job (no Kueue queue is named)."""
    QUOTA_EXCEEDED: Final = "QuotaExceeded"
    """A ResourceQuota of the namespace refuses the Job's pod (a tenant limit: GPUs in total,
    concurrent pods, a priority not allowed); the message names the quota and its numbers.
    The Job controller retries: the pod starts once the quota allows it."""
    PODS_NOT_CREATED: Final = "PodsNotCreated"
    """The API server refuses the Job's pod for another reason (Pod Security, an admission
    policy); the message has its words. The Job controller keeps retrying."""
    WAITING_FOR_ENDPOINT: Final = "WaitingForEndpoint"
    """A job on an endpoint (`spec.endpoint`) waits for it to exist and have a ready replica."""
    INFERRING_ON_ENDPOINT: Final = "InferringOnEndpoint"
    """The operator sends the job's records to the endpoint's ready replicas."""
    ENDPOINT_NOT_FOUND: Final = "EndpointNotFound"
    """The endpoint a job names did not exist within the operator's endpoint wait."""
    ENDPOINT_NOT_READY: Final = "EndpointNotReady"
    """The endpoint a job names had no ready replica within the operator's endpoint wait."""
    STALLED: Final = "Stalled"
    """The worker has not reported for longer than `spec.stall.reportTimeoutSeconds`; after
    `restartAfterSeconds` its attempt is ended and retried, or the job fails when its retries
    are spent. The message names the last report's time."""
    REPORTING: Final = "Reporting"
    """The Stalled condition is False again: the worker reported, or a new attempt runs."""
    ENDPOINT_CALL_FAILED: Final = "EndpointCallFailed"
    """Every attempt to predict a chunk of the records on the endpoint failed."""
