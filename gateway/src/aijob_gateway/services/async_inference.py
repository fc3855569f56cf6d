"""Asynchronous inference: records for an endpoint become an inference AIJob that names it.

`POST /v1/endpoints/{name}/infer/async` and the seeds' asynchronous routes (seed 004's
`/infer/async`, seed 003's `/v1/tasks`) all submit through here. The AIJob
(`spec.endpoint`) is the request's durable record: it survives a gateway restart, is
listed, watched and cancelled as any job (`/v1/jobs/{name}`), and the operator runs it
on the endpoint's warm replicas (no Job, no pod), writing the outputs and stage timings
into its status. Submission is the job service's, so a client request id makes it
idempotent exactly as for `POST /v1/jobs`.

`spec.model.type` is required of every AIJob; for a job on an endpoint it only says what
the endpoint serves: the endpoint's `spec.model.type`, else its training job's, else the
first type its runtime serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aijob_api.endpoint import AIEndpoint
from aijob_api.models import AIJobSpec, InferenceInput, ModelSpec, Task
from aijob_api.priority import Priority
from aijob_api.routing import DEFAULT_FRAMEWORK, model_types_served_by
from pydantic import JsonValue

from aijob_gateway.errors import NotFoundError
from aijob_gateway.security.keys import Tenant
from aijob_gateway.services.endpoints import EndpointService
from aijob_gateway.services.jobs import JobService, NewJob, Submitted

FALLBACK_MODEL_TYPE: Final = model_types_served_by(DEFAULT_FRAMEWORK)[0]


def endpoint_model_type(endpoint: AIEndpoint, training_model_type: str | None) -> str:
    """What the endpoint serves, as a model type (see the module docstring)."""
    if endpoint.spec.model.type is not None:
        return endpoint.spec.model.type
    if training_model_type is not None:
        return training_model_type
    framework = endpoint.status.framework or endpoint.spec.framework
    served = model_types_served_by(framework) if framework is not None else ()
    return served[0] if served else FALLBACK_MODEL_TYPE


def endpoint_job(
    endpoint: AIEndpoint,
    records: list[JsonValue],
    *,
    model_type: str,
    priority: Priority | None = None,
    client_request_id: str | None = None,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> NewJob:
    """The inference AIJob that predicts `records` on `endpoint` (pure)."""
    spec = AIJobSpec(
        task=Task.INFERENCE,
        endpoint=endpoint.metadata.name,
        model=ModelSpec(type=model_type),
        input=InferenceInput(records=list(records)),
        priority=priority or endpoint.spec.priority,
    )
    return NewJob(
        spec=spec,
        client_request_id=client_request_id,
        annotations=dict(annotations or {}),
        labels=dict(labels or {}),
    )


def endpoint_for(
    endpoints: list[AIEndpoint], *, name: str | None = None, task_type: str | None = None
) -> AIEndpoint | None:
    """The endpoint a seed's request goes to: the one named `name`, else one whose
    `spec.taskType` is `task_type` (the one with the most ready replicas, then by name)."""
    if name is not None:
        named = [endpoint for endpoint in endpoints if endpoint.metadata.name == name]
        if named:
            return named[0]
    matching = [
        endpoint
        for endpoint in endpoints
        if task_type is not None and endpoint.spec.task_type == task_type
    ]
    if not matching:
        return None
    return min(
        matching,
        key=lambda endpoint: (-endpoint.status.ready_replicas, endpoint.metadata.name or ""),
    )


class AsyncInferenceService:
    """Submits jobs on the tenant's endpoints."""

    def __init__(self, endpoints: EndpointService, jobs: JobService) -> None:
        self._endpoints = endpoints
        self._jobs = jobs

    async def submit(
        self,
        tenant: Tenant,
        name: str,
        records: list[JsonValue],
        *,
        priority: Priority | None = None,
        client_request_id: str | None = None,
        annotations: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Submitted:
        """Create the job on the tenant's endpoint `name` (404 when it has none of that name);
        the job of an earlier identical request when the client request id is the same."""
        endpoint = self._endpoints.get(tenant, name)
        new = endpoint_job(
            endpoint,
            records,
            model_type=endpoint_model_type(endpoint, self._training_model_type(tenant, endpoint)),
            priority=priority,
            client_request_id=client_request_id,
            annotations=annotations,
            labels=labels,
        )
        return await self._jobs.submit(tenant, new)

    def _training_model_type(self, tenant: Tenant, endpoint: AIEndpoint) -> str | None:
        training = endpoint.spec.model.source.training_job
        if training is None or endpoint.spec.model.type is not None:
            return None
        try:
            return self._jobs.get(tenant, training).spec.model.type
        except NotFoundError:
            return None
