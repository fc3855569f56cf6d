"""Where worker pods may run: node selectors, tolerations and affinity, parsed once.

Both the operator's settings (the CPU pods' placement) and each runtime of the catalog
(a placement of its own) use these models, so a toleration is checked once when the
settings or the catalog are read, and the Job builder only copies it into the pod. Users
write no tolerations nor affinity: a job picks a GPU product and, with the keys its
runtime's `jobNodeSelectorKeys` allows, a node selector (`job_placement_problem`);
`job_environment_problem` adds the administrator's allow-list of Secrets and claims
(`aijob_api.tenant_resources`) to that rule, checked before any Job is made.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aijob_api.environment import PlacementSpec
from aijob_api.spec import AIJobSpec
from aijob_api.tenant_resources import TenantResources, spec_resource_problem
from aijob_api.validation import label_key_problem, labels_problem
from lightkube.models.core_v1 import Affinity, Toleration
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

_AFFINITY_KINDS = frozenset({"nodeAffinity", "podAffinity", "podAntiAffinity"})


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
    """A node selector, tolerations, an affinity (as a pod spec writes it), and the node
    selector keys a job of the runtime may set itself."""

    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: tuple[PodToleration, ...] = ()
    affinity: dict[str, Any] | None = None
    job_node_selector_keys: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check_node_selector(self) -> Placement:
        problem = labels_problem(self.node_selector, "nodeSelector")
        for key in self.job_node_selector_keys:
            problem = problem or label_key_problem(key)
        if problem is not None:
            raise ValueError(problem)
        if self.affinity is not None:
            self.affinity_model()
        return self

    def affinity_model(self) -> Affinity | None:
        """The affinity as the pod spec's model (ValueError when it is not one)."""
        if self.affinity is None:
            return None
        unknown = set(self.affinity) - _AFFINITY_KINDS
        if unknown:
            raise ValueError(
                f"affinity: unknown keys {sorted(unknown)} (allowed: {_AFFINITY_KINDS})"
            )
        try:
            model = Affinity.from_dict(self.affinity)
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"affinity: not a pod affinity: {error}") from error
        return model if isinstance(model, Affinity) else None


def job_placement_problem(runtime: Placement, job: PlacementSpec | None) -> str | None:
    """Why a job's `spec.placement.nodeSelector` uses a key its runtime does not allow."""
    if job is None:
        return None
    for key in job.node_selector:
        if key not in runtime.job_node_selector_keys:
            allowed = ", ".join(runtime.job_node_selector_keys) or "none"
            return (
                f"spec.placement.nodeSelector: the key {key!r} is not allowed by the runtime "
                f"catalog's placement.jobNodeSelectorKeys (allowed: {allowed})"
            )
    return None


def job_environment_problem(
    spec: AIJobSpec, runtime: Placement | None, allowed: TenantResources
) -> str | None:
    """Why a job may not run as its spec says (naming the field), or None: a Secret or a
    claim the administrator's allow-list refuses, or a node selector key its runtime's
    placement does not allow (`runtime`: None when no runtime was found)."""
    found = spec_resource_problem(spec, allowed)
    if found is not None:
        return found[1]
    return job_placement_problem(runtime, spec.placement) if runtime is not None else None
