"""Names of the AIJob resource and the labels and annotations aijob puts on what it owns."""

from typing import Final

GROUP: Final = "aijob.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "AIJob"
PLURAL: Final = "aijobs"
SINGULAR: Final = "aijob"
SHORT_NAMES: Final = ("aij",)
CRD_NAME: Final = f"{PLURAL}.{GROUP}"
MAX_NAME_LENGTH: Final = 61
"""Longest AIJob name: it names the Job, and the Job's pods get the hostname `<name>-0`."""

# Labels on every child object (Job, Pod, ServiceAccount, Role, RoleBinding).
LABEL_JOB_NAME: Final = f"{GROUP}/job-name"
LABEL_TASK: Final = f"{GROUP}/task"
LABEL_FRAMEWORK: Final = f"{GROUP}/framework"
LABEL_PRIORITY: Final = f"{GROUP}/priority"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "aijob-operator"

# Kueue: the label that names the LocalQueue a Job is submitted to.
KUEUE_QUEUE_LABEL: Final = "kueue.x-k8s.io/queue-name"

# The label on simulated GPU nodes and the GPU resource name.
GPU_RESOURCE: Final = "nvidia.com/gpu"

# The gateway stores the idempotency key and the tenant's request on the AIJob.
ANNOTATION_CLIENT_REQUEST_ID: Final = f"{GROUP}/client-request-id"
ANNOTATION_REQUEST_HASH: Final = f"{GROUP}/request-hash"
ANNOTATION_DESCRIPTION: Final = f"{GROUP}/description"
