"""The contract between the operator and a worker pod: environment, exit codes, paths.

The operator sets these variables on every worker container; the worker runtime
reads them. Exit codes tell the operator (through the Job's podFailurePolicy)
whether a failed attempt is worth retrying.
"""

from typing import Final

# Environment variables the operator sets on the worker container.
ENV_JOB_NAME: Final = "AIJOB_NAME"
"""Name of the AIJob this pod works for."""
ENV_NAMESPACE: Final = "AIJOB_NAMESPACE"
"""Namespace of the AIJob."""
ENV_JOB_UID: Final = "AIJOB_UID"
"""UID of the AIJob, so a worker never reports into a re-created namesake."""
ENV_POD_NAME: Final = "AIJOB_POD_NAME"
"""Name of this pod (one pod per attempt), from the downward API."""
ENV_SPEC_FILE: Final = "AIJOB_SPEC_FILE"
"""Path of the file holding the AIJob spec as JSON, a snapshot taken when the Job was built
(`SPEC_FILE_PATH` in a worker pod: see `aijob_api.delivery`)."""
ENV_SPEC: Final = "AIJOB_SPEC"
"""The spec as inline JSON instead of a file: for runs by hand only (the operator never sets
it; a variable is capped at 128 KiB). A worker refuses to be given both."""
ENV_FRAMEWORK: Final = "AIJOB_FRAMEWORK"
"""The resolved framework (after routing from the model type)."""
ENV_FRAMEWORK_VERSION: Final = "AIJOB_FRAMEWORK_VERSION"
"""The runtime version from the operator's catalog."""
ENV_FAILED_ATTEMPTS: Final = "AIJOB_FAILED_ATTEMPTS"
"""Earlier attempts of this job that failed (0 on the first): this pod is attempt N + 1.

Read by the downward API from the Job controller's pod annotation
`batch.kubernetes.io/job-index-failure-count`; preemptions and evictions are not counted.
"""
ENV_ARTIFACT_URI: Final = "AIJOB_ARTIFACT_URI"
"""Where this job writes its model and artifacts (file:///... or s3://...)."""
ENV_MODEL_URI: Final = "AIJOB_MODEL_URI"
"""For inference: the model to load, resolved from the training job or the spec."""
ENV_MODEL_SHA256: Final = "AIJOB_MODEL_SHA256"
"""For inference on a training job's model: the SHA-256 of the model's manifest that the
training job recorded in its status; the worker refuses a model whose manifest differs."""
ENV_PROGRESS_INTERVAL: Final = "AIJOB_PROGRESS_INTERVAL_SECONDS"
"""Least number of seconds between two progress writes into the status."""

# Distributed and multi-process jobs (set on every container of a job with
# spec.distributed.nodes > 1 or processesPerNode > 1, and only there).
ENV_NODES: Final = "AIJOB_NODES"
"""How many pods (nodes) the job's group has: `spec.distributed.nodes`."""
ENV_PROCESSES_PER_NODE: Final = "AIJOB_PROCESSES_PER_NODE"
"""How many processes each pod starts (torchrun's --nproc-per-node)."""
ENV_MASTER_ADDR: Final = "AIJOB_MASTER_ADDR"
"""With nodes > 1: the address of rank 0's pod (the ClusterIP of its Service `<job>-0`)."""
ENV_MASTER_PORT: Final = "AIJOB_MASTER_PORT"
"""With nodes > 1: the rendezvous port on `ENV_MASTER_ADDR` (`RENDEZVOUS_PORT`)."""
ENV_WORKER_HOSTS: Final = "AIJOB_WORKER_HOSTS"
"""With nodes > 1: `<ip0>:<port>,<ip1>:<port>,...` in rank order (TF_CONFIG's workers)."""
ENV_NODE_RANK: Final = "JOB_COMPLETION_INDEX"
"""This pod's rank in the group: Kubernetes' own variable in an Indexed Job's pods."""
RENDEZVOUS_PORT: Final = 29500
"""The port every rank's Service forwards (torchrun's default master port)."""
RENDEZVOUS_PORT_NAME: Final = "rendezvous"
"""The name of that port on the Services and the worker container."""

# Exit codes.
EXIT_SUCCESS: Final = 0
EXIT_BAD_INPUT: Final = 65
"""Bad input (hyperparameters, model type, unreadable data): never retried (sysexits EX_DATAERR)."""
EXIT_INTERRUPTED: Final = 143
"""Stopped by SIGTERM after saving a checkpoint: retried, resumes from the checkpoint."""

# Inside the pod.
ARTIFACTS_MOUNT_PATH: Final = "/var/lib/aijob/artifacts"
"""Where the artifact volume is mounted in worker pods (local-filesystem backend)."""
SCRATCH_MOUNT_PATH: Final = "/tmp"  # noqa: S108 - an emptyDir private to the pod
"""A writable scratch directory (emptyDir); the root filesystem is read-only. HOME points here."""
SPEC_ANNOTATION: Final = "aijob.dev/spec"
"""The pod template annotation holding the spec document (`aijob_api.delivery`)."""
SPEC_MOUNT_PATH: Final = "/etc/aijob"
"""Where the read-only downwardAPI volume projecting the spec annotation is mounted."""
SPEC_FILE_NAME: Final = "spec.json"
SPEC_FILE_PATH: Final = f"{SPEC_MOUNT_PATH}/{SPEC_FILE_NAME}"
"""The spec file in a worker pod (what `ENV_SPEC_FILE` names)."""
CONTAINER_NAME: Final = "worker"
"""Name of the worker container in the pod template."""
TERMINATION_MESSAGE_PATH: Final = "/dev/termination-log"
"""The worker may write a one-line reason here before it exits non-zero; the operator shows it."""
RUN_AS_USER: Final = 10001
"""The uid (and gid) of worker containers (the worker images' USER); a hostPath artifact
directory must be writable by it."""

# Saved models.
MODEL_MANIFEST_FILE: Final = "aijob-model.json"
"""The manifest in every saved model directory (the model type, every file's SHA-256).
A training job lists it among its artifacts as `model/aijob-model.json`; its SHA-256 is
the model's checksum, the one the model server reports (`modelChecksum`)."""
MODEL_MANIFEST_ARTIFACT: Final = f"model/{MODEL_MANIFEST_FILE}"
"""The manifest's name in a training job's `status.results.artifacts`."""
