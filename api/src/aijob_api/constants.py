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

# The AIEndpoint resource: a model served warm by a Deployment behind a Service.
ENDPOINT_KIND: Final = "AIEndpoint"
ENDPOINT_PLURAL: Final = "aiendpoints"
ENDPOINT_SINGULAR: Final = "aiendpoint"
ENDPOINT_SHORT_NAMES: Final = ("aie",)
ENDPOINT_CRD_NAME: Final = f"{ENDPOINT_PLURAL}.{GROUP}"
ENDPOINT_MAX_NAME_LENGTH: Final = 63
"""Longest AIEndpoint name: it names its Service (a DNS-1035 label: a letter first, at
most 63 characters) and Deployment, and is the value of its pods' label."""

# Labels on every child object (Job, Pod, ServiceAccount, Role, RoleBinding).
LABEL_JOB_NAME: Final = f"{GROUP}/job-name"
LABEL_TASK: Final = f"{GROUP}/task"
LABEL_FRAMEWORK: Final = f"{GROUP}/framework"
LABEL_PRIORITY: Final = f"{GROUP}/priority"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
LABEL_ENDPOINT_NAME: Final = f"{GROUP}/endpoint"
"""On every child of an AIEndpoint (Deployment, its pods, Service, ConfigMap): its name.
`aijob.dev/endpoint=NAME` selects the endpoint's pods (the scale subresource's selector)."""
MANAGED_BY: Final = "aijob-operator"

# Kueue: the label that names the LocalQueue a Job is submitted to.
KUEUE_QUEUE_LABEL: Final = "kueue.x-k8s.io/queue-name"
KUEUE_PRIORITY_LABEL: Final = "kueue.x-k8s.io/priority-class"
"""Kueue: the WorkloadPriorityClass of a queued Job; aijob's are named and valued as its
PriorityClasses (`aijob_api.priority`), the chart makes them where Kueue is installed."""

# The label on simulated GPU nodes and the GPU resource name.
GPU_RESOURCE: Final = "nvidia.com/gpu"

# The gateway stores the idempotency key and the tenant's request on the AIJob.
ANNOTATION_CLIENT_REQUEST_ID: Final = f"{GROUP}/client-request-id"
ANNOTATION_REQUEST_HASH: Final = f"{GROUP}/request-hash"
ANNOTATION_DESCRIPTION: Final = f"{GROUP}/description"
