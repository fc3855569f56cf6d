"""Small builders of AIEndpoints, and of their Deployment and pod bodies, for unit tests."""

from __future__ import annotations

from typing import Any

from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_status import ServedModel
from aijob_operator.builders.endpoint_deployment import build_deployment
from aijob_operator.builders.endpoint_meta import REVISION_LABEL, EndpointTarget
from aijob_operator.builders.pod import PodSettings
from aijob_operator.catalog import load_catalog
from aijob_operator.endpoint_views import DeploymentView, EndpointPodView

from tests.unit.operator.factories import condition, stamp

CATALOG = load_catalog()
ENDPOINT_UID = "2222-endpoint-uid"
MODEL = ServedModel(
    uri="file:///var/lib/aijob/artifacts/ns/iris/model",
    checksum="5b0c" + "0" * 60,
    training_job="iris",
    training_job_uid="0000-aijob-uid",
)
RETRAINED = MODEL.model_copy(update={"checksum": "77aa" + "0" * 60, "training_job_uid": "9999"})


def endpoint(
    name: str = "iris",
    *,
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    uid: str = ENDPOINT_UID,
) -> AIEndpoint:
    """An endpoint serving training job iris, unless `spec` says otherwise (merged over it)."""
    body: dict[str, Any] = {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": uid,
            "generation": 1,
            "creationTimestamp": stamp(0),
            "resourceVersion": "20",
        },
        "spec": {"model": {"source": {"trainingJob": "iris"}}, **(spec or {})},
    }
    if status is not None:
        body["status"] = status
    return AIEndpoint.model_validate(body)


def target(
    item: AIEndpoint | None = None,
    *,
    model: ServedModel = MODEL,
    model_type: str | None = "random_forest",
    framework: str = "sklearn",
    settings: PodSettings | None = None,
) -> EndpointTarget:
    """What an endpoint's builders take, with the shipped catalog's runtime."""
    from aijob_api.routing import Framework

    runtime = CATALOG.resolve(Framework(framework))
    return EndpointTarget(
        endpoint=item or endpoint(),
        runtime=runtime,
        model=model,
        model_type=model_type,
        settings=settings or PodSettings(),
    )


def deployment_body(
    built: EndpointTarget | None = None,
    *,
    owner_uid: str = ENDPOINT_UID,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The Deployment the builder makes for `built`, as the API server returns it."""
    body: dict[str, Any] = build_deployment(built or target()).to_dict()
    body["metadata"]["uid"] = "3333-deployment-uid"
    body["metadata"]["ownerReferences"][0]["uid"] = owner_uid
    body["status"] = {"conditions": conditions or []}
    return body


def deployment_view(built: EndpointTarget | None = None, **status: Any) -> DeploymentView:
    """The view of `deployment_body`."""
    return DeploymentView.from_body(deployment_body(built, **status))


def revision_of(view: DeploymentView) -> str:
    """The revision label of a Deployment's template."""
    assert view.revision is not None
    return view.revision


def server_pod(
    name: str = "iris-7d9c-abcde",
    *,
    revision: str,
    model: ServedModel = MODEL,
    phase: str = "Running",
    node: str | None = "kwok-cpu-0",
    ready: bool = False,
    restarts: int = 0,
    waiting: dict[str, Any] | None = None,
    last: dict[str, Any] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    deleting: bool = False,
) -> EndpointPodView:
    """A model server pod's view, as the API server would describe it."""
    state: dict[str, Any] = {"waiting": waiting} if waiting else {"running": {}}
    if phase == "Pending" and not waiting:
        state = {}
    container: dict[str, Any] = {"name": "server", "state": state, "restartCount": restarts}
    if last is not None:
        container["lastState"] = {"terminated": last}
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": f"uid-{name}",
        "creationTimestamp": stamp(1),
        "labels": {"aijob.dev/endpoint": "iris", REVISION_LABEL: revision},
        "annotations": {
            "aijob.dev/model-uri": model.uri,
            "aijob.dev/model-checksum": model.checksum or "",
            "aijob.dev/training-job": model.training_job or "",
            "aijob.dev/training-job-uid": model.training_job_uid or "",
        },
    }
    if deleting:
        metadata["deletionTimestamp"] = stamp(9)
    pod_conditions = list(conditions or [])
    if ready:
        pod_conditions.append(condition("Ready"))
    return EndpointPodView.from_body(
        {
            "metadata": metadata,
            "spec": {"nodeName": node} if node else {},
            "status": {
                "phase": phase,
                "conditions": pod_conditions,
                "containerStatuses": [container] if state or last else [],
            },
        }
    )
