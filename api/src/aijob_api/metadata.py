"""Metadata: the part of an object's metadata aijob reads, and the worker pods' extra metadata.

The label rules are those of `aijob_api.validation`; the CEL rules that keep the
reserved prefixes off worker pods are built from the same tuples the Python checks use.
Which other prefixes a pod may carry is the cluster administrator's choice, checked by
the operator (`aijob_operator.builders.pod_metadata`), since the CRD cannot know it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from aijob_api.cel import reserved_key_prefixes_rule, spoken_list
from aijob_api.validation import (
    MAX_LABEL_VALUE_LENGTH,
    RESERVED_ANNOTATION_PREFIXES,
    RESERVED_LABEL_PREFIXES,
    annotations_problem,
    labels_problem,
)
from aijob_api.wire import WireModel

MAX_POD_METADATA_ENTRIES: Final = 32
MAX_ANNOTATION_VALUE_LENGTH: Final = 4096


class PodTemplateMetadata(WireModel):
    """Extra metadata for the worker pods: for service meshes, log shippers, cost labels."""

    labels: Annotated[
        dict[str, str],
        Field(
            description=(
                "Labels added to each worker pod. "
                f"Keys under {spoken_list(RESERVED_LABEL_PREFIXES)} are reserved."
            ),
            max_length=MAX_POD_METADATA_ENTRIES,
            json_schema_extra={
                "x-kubernetes-validations": [
                    reserved_key_prefixes_rule(RESERVED_LABEL_PREFIXES, "label keys")
                ],
                "additionalProperties": {"type": "string", "maxLength": MAX_LABEL_VALUE_LENGTH},
            },
        ),
    ] = Field(default_factory=dict)
    annotations: Annotated[
        dict[str, str],
        Field(
            description=(
                "Annotations added to each worker pod (the operator's own keys win on a clash). "
                f"Keys under {spoken_list(RESERVED_ANNOTATION_PREFIXES)} are reserved."
            ),
            max_length=MAX_POD_METADATA_ENTRIES,
            json_schema_extra={
                "x-kubernetes-validations": [
                    reserved_key_prefixes_rule(RESERVED_ANNOTATION_PREFIXES, "annotation keys")
                ],
                "additionalProperties": {
                    "type": "string",
                    "maxLength": MAX_ANNOTATION_VALUE_LENGTH,
                },
            },
        ),
    ] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_keys_and_values(self) -> PodTemplateMetadata:
        """Reject label keys and values the API server would refuse on the pod."""
        problem = labels_problem(self.labels, "podTemplate.labels", reserved=True)
        problem = problem or annotations_problem(
            self.annotations, "podTemplate.annotations", reserved=True
        )
        if problem is not None:
            raise ValueError(problem)
        return self


class ObjectMeta(BaseModel):
    """The part of Kubernetes object metadata aijob reads."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    generation: int | None = None
    resource_version: str | None = None
    creation_timestamp: datetime | None = None
    deletion_timestamp: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
