"""Which runtime serves an endpoint's model: the spec's choices, else the training job's.

A model is served by the framework it was trained on: an endpoint that names no
framework takes its training job's (the runtime it ran on), and that job's runtime
version when it names none either; the model type comes from the spec, else from the
training job. With neither a framework nor a training job, the framework is routed from
the model type, as for AIJobs. The catalog then picks the image and refuses what its
runtimes cannot serve (the model type, GPUs on a CPU-only image), naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.resource import AIJob
from aijob_api.routing import Framework, route_framework

from aijob_operator.catalog import ResolvedRuntime, RuntimeCatalog, UnknownRuntimeError


@dataclass(frozen=True)
class RuntimeRequest:
    """What an endpoint asks the catalog for; a framework None is not known yet."""

    framework: Framework | None
    version: str | None
    model_type: str | None


def runtime_request(spec: AIEndpointSpec, training: AIJob | None) -> RuntimeRequest:
    """The framework, version and model type an endpoint's model is served with."""
    model_type = spec.model.type or (training.spec.model.type if training else None)
    trained_on: Framework | None = None
    trained_version: str | None = None
    if training is not None:
        trained_on = training.status.framework or training.spec.resolved_framework
        trained_version = training.status.framework_version or training.spec.framework_version
    framework = spec.framework or trained_on
    if framework is None and model_type is not None:
        framework = route_framework(model_type)
    version = spec.framework_version
    if version is None and framework is not None and framework == trained_on:
        version = trained_version
    return RuntimeRequest(framework, version, model_type)


def resolve_runtime(
    catalog: RuntimeCatalog, request: RuntimeRequest, gpus: int
) -> tuple[ResolvedRuntime | None, str | None]:
    """The runtime, or why the catalog refuses; (None, None) while the framework is unknown."""
    if request.framework is None:
        return None, None
    try:
        runtime = catalog.resolve_request(
            request.framework, request.version, request.model_type, gpus
        )
    except UnknownRuntimeError as error:
        return None, str(error)
    return runtime, None
