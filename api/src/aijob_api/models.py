"""Pydantic models of the AIJob resource, in one import: the single source of truth for its schema.

The models live by concern: `spec` (what to run), `inputs` (what it takes in),
`status` (what happens, and who writes each part), `metric_history` (the metric
series), `metadata` (object and pod metadata), `validation` (patterns and the one
label validator), `cel` (the CEL rules), `priority` and `routing` (the tables of
priorities and model types), `resource` (the AIJob itself). This module re-exports
them, so `from aijob_api.models import AIJob, AIJobSpec` keeps working. The CRD in
`crds/` is generated from them (see `aijob_api.crd`).
"""

from aijob_api.metadata import MAX_POD_METADATA_ENTRIES, ObjectMeta, PodTemplateMetadata
from aijob_api.metric_history import MetricAxis, MetricHistory, MetricSeries
from aijob_api.priority import Priority
from aijob_api.resource import AIJob
from aijob_api.spec import (
    DEFAULT_MAX_RETRIES,
    IMMUTABLE_SPEC_FIELDS,
    MAX_GPUS,
    MAX_INLINE_RECORDS,
    MAX_RETRIES,
    MAX_TIMEOUT_SECONDS,
    AIJobSpec,
    DatasetSpec,
    InferenceInput,
    ModelSource,
    ModelSpec,
    ResourceSpec,
    RetryPolicy,
    Task,
)
from aijob_api.stall import StallPolicy, StallStatus
from aijob_api.status import (
    AIJobStatus,
    Artifact,
    Checkpoint,
    Condition,
    Progress,
    Results,
    StageTimings,
    StatusOwner,
)
from aijob_api.validation import (
    DNS_LABEL_PATTERN,
    MODEL_TYPE_PATTERN,
    QUANTITY_PATTERN,
    RESERVED_ANNOTATION_PREFIXES,
    RESERVED_LABEL_PREFIXES,
)
from aijob_api.wire import WireModel

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DNS_LABEL_PATTERN",
    "IMMUTABLE_SPEC_FIELDS",
    "MAX_GPUS",
    "MAX_INLINE_RECORDS",
    "MAX_POD_METADATA_ENTRIES",
    "MAX_RETRIES",
    "MAX_TIMEOUT_SECONDS",
    "MODEL_TYPE_PATTERN",
    "QUANTITY_PATTERN",
    "RESERVED_ANNOTATION_PREFIXES",
    "RESERVED_LABEL_PREFIXES",
    "AIJob",
    "AIJobSpec",
    "AIJobStatus",
    "Artifact",
    "Checkpoint",
    "Condition",
    "DatasetSpec",
    "InferenceInput",
    "MetricAxis",
    "MetricHistory",
    "MetricSeries",
    "ModelSource",
    "ModelSpec",
    "ObjectMeta",
    "PodTemplateMetadata",
    "Priority",
    "Progress",
    "ResourceSpec",
    "Results",
    "RetryPolicy",
    "StageTimings",
    "StallPolicy",
    "StallStatus",
    "StatusOwner",
    "Task",
    "WireModel",
]
