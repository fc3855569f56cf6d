"""Where worker pods may run: node selectors and tolerations, parsed once from settings.

Both the operator's settings (the CPU pods' placement) and each runtime of the catalog
(a placement of its own) use these models, so a toleration is checked once when the
settings or the catalog are read, and the Job builder only copies it into the pod.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aijob_api.validation import labels_problem
from lightkube.models.core_v1 import Toleration
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


class _PlacementModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class PodToleration(_PlacementModel):
    """A toleration of worker pods, as a pod spec writes it (camelCase)."""

    key: Annotated[str | None, Field(min_length=1)] = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None

    @model_validator(mode="after")
    def _check_operator(self) -> PodToleration:
        if self.operator == "Exists" and self.value:
            raise ValueError("a toleration with operator Exists takes no value")
        if self.operator == "Equal" and self.key is None:
            raise ValueError("a toleration with operator Equal needs a key")
        return self

    def to_kubernetes(self) -> Toleration:
        """The toleration as the pod spec's model."""
        return Toleration(
            key=self.key,
            operator=self.operator,
            value=self.value,
            effect=self.effect,
            tolerationSeconds=self.toleration_seconds,
        )


class Placement(_PlacementModel):
    """A node selector and tolerations."""

    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: tuple[PodToleration, ...] = ()

    @model_validator(mode="after")
    def _check_node_selector(self) -> Placement:
        problem = labels_problem(self.node_selector, "nodeSelector")
        if problem is not None:
            raise ValueError(problem)
        return self
