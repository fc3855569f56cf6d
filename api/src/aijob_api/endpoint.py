"""The AIEndpoint custom resource as one object: metadata, spec and status."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from aijob_api.constants import ENDPOINT_KIND
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.endpoint_status import AIEndpointStatus
from aijob_api.metadata import ObjectMeta


class AIEndpoint(BaseModel):
    """The AIEndpoint custom resource: a model served warm behind a Service."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    api_version: Literal["aijob.dev/v1alpha1"] = "aijob.dev/v1alpha1"
    kind: Literal["AIEndpoint"] = ENDPOINT_KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AIEndpointSpec
    status: AIEndpointStatus = Field(default_factory=AIEndpointStatus)

    def to_manifest(self) -> dict[str, Any]:
        """The object as the API server wants it (camelCase, no empty fields)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
