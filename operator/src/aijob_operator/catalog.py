"""The runtime catalog: framework and version to worker image, command, defaults, placement.

Data, not code (Kubeflow Trainer's runtimes are the model): the catalog is a YAML
file shipped in this package, and the operator reads another one when the
administrator points `AIJOB_OPERATOR_CATALOG_PATH` (or `--catalog`) at it, for
example a ConfigMap mounted by the Helm chart. It is read and checked once, at
start-up; `resolve_for` then picks the runtime of each AIJob and refuses, naming the
field, a job the runtime cannot run: an unknown framework or version, a model type
its image does not serve, GPUs for an image that cannot use them. `customImages` lists the
namespaces whose jobs may bring their own image (`spec.code.image`); elsewhere such a job
fails before any Job is made, naming the field and the rule. A runtime's `requirements`
rule (`aijob_operator.requirements`) says the same of `spec.code.requirements`, and names
the package index they come from.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from aijob_api.routing import Framework
from aijob_api.spec import AIJobSpec
from aijob_api.stall import StallPolicy
from aijob_api.validation import QUANTITY_PATTERN
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from aijob_operator.placement import Placement
from aijob_operator.requirements import RequirementsRule, requirements_problem

_ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CatalogError(ValueError):
    """The catalog file is missing, unreadable or inconsistent."""


class UnknownRuntimeError(LookupError):
    """The catalog has no runtime that can run a job: for its framework, version, model
    type, or (asking for GPUs) none whose image can use them. The message names the field."""


class _CatalogModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class DefaultResources(_CatalogModel):
    """Requests (and limits) a worker gets when the AIJob names none."""

    cpu: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "500m"
    memory: Annotated[str, Field(pattern=QUANTITY_PATTERN)] = "1Gi"


class Runtime(_CatalogModel):
    """One framework version: the image and how to start it."""

    image: Annotated[str, Field(min_length=1)]
    command: list[str] = Field(default_factory=lambda: ["python", "-m", "aijob_worker"])
    args: list[str] = Field(default_factory=list)
    resources: DefaultResources = Field(default_factory=DefaultResources)
    env: dict[str, str] = Field(default_factory=dict)
    model_types: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """The `spec.model.type` values the image serves (its runners); empty: not checked."""
    gpu_capable: bool = False
    """Whether the image can use GPUs (CUDA builds); a job asking for GPUs needs one that can."""
    placement: Placement = Field(default_factory=Placement)
    stall: StallPolicy | None = None
    """How long its workers may go without reporting (`spec.stall` overrides each limit; the
    operator's settings fill those left out)."""
    requirements: RequirementsRule | None = None
    """Where jobs may install `spec.code.requirements`, and from which index (none: nowhere)."""

    @model_validator(mode="after")
    def _check_env_names(self) -> Runtime:
        for name in self.env:
            if not _ENV_NAME_PATTERN.match(name):
                raise ValueError(f"env: {name!r} is not a valid variable name")
        return self


class FrameworkRuntimes(_CatalogModel):
    """Every version of one framework, and the one used when the AIJob names none."""

    default_version: str
    versions: Annotated[dict[str, Runtime], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_default(self) -> FrameworkRuntimes:
        if self.default_version not in self.versions:
            raise ValueError(
                f"defaultVersion {self.default_version!r} is not among the versions "
                f"{sorted(self.versions)}"
            )
        return self


class ResolvedRuntime(_CatalogModel):
    """The runtime chosen for one AIJob."""

    framework: Framework
    version: str
    runtime: Runtime


class CustomImages(_CatalogModel):
    """Where a job may run its own image (`spec.code.image`, `command`): none by default."""

    namespaces: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """The namespaces allowed; `"*"` allows every namespace."""

    def allows(self, namespace: str) -> bool:
        """Whether jobs of `namespace` may bring their own image."""
        return "*" in self.namespaces or namespace in self.namespaces


class RuntimeCatalog(_CatalogModel):
    """Framework to its runtimes, and where custom images are allowed."""

    frameworks: dict[Framework, FrameworkRuntimes]
    custom_images: CustomImages = Field(default_factory=CustomImages)

    def custom_image_problem(self, namespace: str, spec: AIJobSpec) -> str | None:
        """Why the job may not run its own image here (naming the field and the rule), or None."""
        if spec.code is None or spec.code.image is None or self.custom_images.allows(namespace):
            return None
        return (
            f"spec.code.image: custom images are not allowed in namespace {namespace!r}: the "
            "runtime catalog's customImages.namespaces does not list it (ask the admin)"
        )

    def requirements_problem(
        self, runtime: ResolvedRuntime | None, namespace: str, spec: AIJobSpec
    ) -> str | None:
        """Why the job may not install `spec.code.requirements` on its runtime, or None."""
        if runtime is None:
            return None
        name = f"{runtime.framework.value} {runtime.version}"
        return requirements_problem(runtime.runtime.requirements, name, namespace, spec)

    def resolve(
        self, framework: Framework, version: str | None = None, model_type: str | None = None
    ) -> ResolvedRuntime:
        """The runtime for a framework at a version (the default version when None).

        With `model_type`, the runtime must also serve that model type, so a job its
        image cannot run fails before any Job is made, with the field named.
        """
        runtimes = self.frameworks.get(framework)
        if runtimes is None:
            known = ", ".join(sorted(self.frameworks)) or "none"
            raise UnknownRuntimeError(
                f"the runtime catalog has no framework {framework.value!r} (it has: {known})"
            )
        chosen = version or runtimes.default_version
        runtime = runtimes.versions.get(chosen)
        if runtime is None:
            known = ", ".join(sorted(runtimes.versions))
            raise UnknownRuntimeError(
                f"the runtime catalog has no {framework.value} version {chosen!r} (it has: {known})"
            )
        if model_type is not None and runtime.model_types and model_type not in runtime.model_types:
            raise UnknownRuntimeError(
                f"spec.model.type: {model_type!r} is not served by the {framework.value} "
                f"{chosen} runtime ({runtime.image}); it serves: {', '.join(runtime.model_types)}"
            )
        return ResolvedRuntime(framework=framework, version=chosen, runtime=runtime)

    def resolve_for(self, spec: AIJobSpec) -> ResolvedRuntime:
        """The runtime of one AIJob: framework, version and model type, and GPUs if it asks."""
        return self.resolve_request(
            spec.resolved_framework, spec.framework_version, spec.model.type, spec.resources.gpu
        )

    def resolve_request(
        self, framework: Framework, version: str | None, model_type: str | None, gpus: int
    ) -> ResolvedRuntime:
        """The runtime for a framework, version and model type that can give `gpus` GPUs
        (an AIJob's, an AIEndpoint's replicas'); the refusal names `spec.resources.gpu`."""
        resolved = self.resolve(framework, version, model_type)
        if gpus and not resolved.runtime.gpu_capable:
            capable = [
                name.value
                for name, runtimes in self.frameworks.items()
                if runtimes.versions[runtimes.default_version].gpu_capable
            ]
            instead = f" or a framework that can: {', '.join(capable)}" if capable else ""
            raise UnknownRuntimeError(
                f"spec.resources.gpu: {gpus} GPU(s) asked for, but the {resolved.framework.value} "
                f"{resolved.version} runtime ({resolved.runtime.image}) cannot use GPUs; "
                f"ask for 0{instead}"
            )
        return resolved


def parse_catalog(text: str, source: str = "<catalog>") -> RuntimeCatalog:
    """Parse and check a catalog from YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"{source}: not valid YAML: {error}") from error
    try:
        return RuntimeCatalog.model_validate(data)
    except ValidationError as error:
        raise CatalogError(f"{source}: {error}") from error


def load_catalog(path: Path | None = None) -> RuntimeCatalog:
    """Load the catalog at `path`, or the one shipped with the operator."""
    if path is None:
        text = resources.files("aijob_operator").joinpath("catalog.yaml").read_text()
        return parse_catalog(text, "aijob_operator/catalog.yaml")
    try:
        text = path.read_text()
    except OSError as error:
        raise CatalogError(f"cannot read the runtime catalog {path}: {error}") from error
    return parse_catalog(text, str(path))
