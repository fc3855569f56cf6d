"""What each of aijob's CRDs holds beyond its schema: names, printer columns, subresources.

`aijob_api.crd` builds every CRD the same way from one `CrdKind`: the spec and status
models give the schema, the rest comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel

from aijob_api.constants import (
    ENDPOINT_KIND,
    ENDPOINT_MAX_NAME_LENGTH,
    ENDPOINT_PLURAL,
    ENDPOINT_SHORT_NAMES,
    ENDPOINT_SINGULAR,
    GROUP,
    KIND,
    MAX_NAME_LENGTH,
    PLURAL,
    SHORT_NAMES,
    SINGULAR,
)
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.endpoint_status import AIEndpointStatus
from aijob_api.spec import AIJobSpec
from aijob_api.status import AIJobStatus
from aijob_api.validation import DNS_1035_LABEL_PATTERN, DNS_LABEL_PATTERN


@dataclass(frozen=True)
class CrdKind:
    """One custom resource: its names, models, columns and subresources."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    spec_model: type[BaseModel]
    status_model: type[BaseModel]
    description: str
    printer_columns: list[dict[str, Any]]
    name_rule: dict[str, str]
    """CEL rule on `metadata.name`, which names the resource's children."""
    subresources: dict[str, Any]
    categories: tuple[str, ...] = ("all",)
    """`kubectl get <category>` lists it. A category never names another resource's
    singular: `aijob` (the AIJob's) holds only AIJobs, or `kubectl delete aijob x` would
    be ambiguous."""

    @property
    def crd_name(self) -> str:
        """`<plural>.<group>`, the CRD's own name."""
        return f"{self.plural}.{GROUP}"

    @property
    def file_name(self) -> str:
        """The file the CRD is written to, in crds/ and in the chart."""
        return f"{GROUP}_{self.plural}.yaml"


PRINTER_COLUMNS: Final[list[dict[str, Any]]] = [
    {"name": "Task", "type": "string", "jsonPath": ".spec.task"},
    {"name": "Framework", "type": "string", "jsonPath": ".status.framework"},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Progress", "type": "string", "jsonPath": ".status.progress.percent"},
    {"name": "GPUs", "type": "integer", "jsonPath": ".spec.resources.gpu"},
    {"name": "Priority", "type": "string", "jsonPath": ".spec.priority"},
    {"name": "Attempts", "type": "integer", "jsonPath": ".status.attempts"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Model", "type": "string", "jsonPath": ".spec.model.type", "priority": 1},
    {"name": "Node", "type": "string", "jsonPath": ".status.nodeName", "priority": 1},
    {"name": "Job", "type": "string", "jsonPath": ".status.jobName", "priority": 1},
    {"name": "Message", "type": "string", "jsonPath": ".status.message", "priority": 1},
]
"""Columns of `kubectl get aijobs`; priority 1 ones show with `-o wide`."""

NAME_RULE: Final[dict[str, str]] = {
    "rule": (
        f"size(self.metadata.name) <= {MAX_NAME_LENGTH} && "
        f"self.metadata.name.matches('{DNS_LABEL_PATTERN}')"
    ),
    "message": (
        f"metadata.name must be a DNS label of at most {MAX_NAME_LENGTH} characters "
        "(it names the Job and its pods' hostname)"
    ),
    "reason": "FieldValueInvalid",
}
"""CEL rule on an AIJob's name, which becomes the child Job's name."""

AIJOB_CRD: Final = CrdKind(
    kind=KIND,
    plural=PLURAL,
    singular=SINGULAR,
    short_names=SHORT_NAMES,
    spec_model=AIJobSpec,
    status_model=AIJobStatus,
    description=(
        "An AI training or inference job, run by the aijob operator as a "
        "Kubernetes Job on a framework-specific worker image."
    ),
    printer_columns=PRINTER_COLUMNS,
    name_rule=NAME_RULE,
    subresources={"status": {}},
    categories=("all", "aijob"),
)

ENDPOINT_PRINTER_COLUMNS: Final[list[dict[str, Any]]] = [
    {"name": "Model", "type": "string", "jsonPath": ".spec.model.source.trainingJob"},
    {"name": "Framework", "type": "string", "jsonPath": ".status.framework"},
    {"name": "Ready", "type": "integer", "jsonPath": ".status.readyReplicas"},
    {"name": "Desired", "type": "integer", "jsonPath": ".spec.replicas"},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "In-Flight", "type": "integer", "jsonPath": ".status.inFlight"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "URI", "type": "string", "jsonPath": ".status.model.uri", "priority": 1},
    {"name": "Priority", "type": "string", "jsonPath": ".spec.priority", "priority": 1},
    {"name": "URL", "type": "string", "jsonPath": ".status.url", "priority": 1},
    {"name": "Message", "type": "string", "jsonPath": ".status.message", "priority": 1},
]
"""Columns of `kubectl get aiendpoints`; priority 1 ones show with `-o wide`."""

ENDPOINT_NAME_RULE: Final[dict[str, str]] = {
    "rule": (
        f"size(self.metadata.name) <= {ENDPOINT_MAX_NAME_LENGTH} && "
        f"self.metadata.name.matches('{DNS_1035_LABEL_PATTERN}')"
    ),
    "message": (
        f"metadata.name must be a DNS-1035 label of at most {ENDPOINT_MAX_NAME_LENGTH} "
        "characters, a letter first (it names the endpoint's Service)"
    ),
    "reason": "FieldValueInvalid",
}
"""CEL rule on an AIEndpoint's name, which becomes its Service's and Deployment's name."""

ENDPOINT_CRD: Final = CrdKind(
    kind=ENDPOINT_KIND,
    plural=ENDPOINT_PLURAL,
    singular=ENDPOINT_SINGULAR,
    short_names=ENDPOINT_SHORT_NAMES,
    spec_model=AIEndpointSpec,
    status_model=AIEndpointStatus,
    description=(
        "A model served warm: the aijob operator runs it as a Deployment of the framework's "
        "worker image in serve mode behind a Service (Open Inference Protocol and JSON routes)."
    ),
    printer_columns=ENDPOINT_PRINTER_COLUMNS,
    name_rule=ENDPOINT_NAME_RULE,
    subresources={
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        },
    },
)

CRD_KINDS: Final = (AIJOB_CRD, ENDPOINT_CRD)
"""Every CRD aijob defines."""
