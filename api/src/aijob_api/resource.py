"""The AIJob custom resource as one object: metadata, spec and status."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from aijob_api.constants import KIND
from aijob_api.metadata import ObjectMeta
from aijob_api.spec import AIJobSpec
from aijob_api.status import AIJobStatus


class AIJob(BaseModel):
    """The AIJob custom resource."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    api_version: Literal["aijob.dev/v1alpha1"] = "aijob.dev/v1alpha1"
    kind: Literal["AIJob"] = KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AIJobSpec
    status: AIJobStatus = Field(default_factory=AIJobStatus)

    def to_manifest(self) -> dict[str, Any]:
        """The object as the API server wants it (camelCase, no empty fields)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
