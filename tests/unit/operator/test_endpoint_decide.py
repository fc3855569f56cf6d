"""decide_endpoint: which children to write and which status to show, from what is known."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aijob_api.endpoint_conditions import EndpointConditionType, EndpointPhase, EndpointReason
from aijob_operator.builders.endpoint_config import build_config_map
from aijob_operator.builders.endpoint_service import build_service
from aijob_operator.dependency import Dependency, DependencyState
from aijob_operator.endpoint_decide import (
    ChildKind,
    EndpointInputs,
    Write,
    decide_endpoint,
    endpoint_event,
    endpoint_status_patch,
)
from aijob_operator.endpoint_views import DeploymentView, OwnedView

from tests.unit.operator.endpoint_factories import (
    ENDPOINT_UID,
    MODEL,
    RETRAINED,
    deployment_view,
    endpoint,
    revision_of,
    server_pod,
    target,
)
from tests.unit.operator.factories import at

READY = Dependency(
    DependencyState.READY,
    model_uri=MODEL.uri,
    model_checksum=MODEL.checksum,
    training_job="iris",
    training_job_uid=MODEL.training_job_uid,
)
RETRAINED_READY = replace(
    READY, model_checksum=RETRAINED.checksum, training_job_uid=RETRAINED.training_job_uid
)
RERUNNING = Dependency(
    DependencyState.WAITING, message="waiting for training job iris to succeed (it is Running)"
)


def owned(child: Any, owner: str = ENDPOINT_UID) -> OwnedView:
    body = child.to_dict()
    body["metadata"]["ownerReferences"][0]["uid"] = owner
    return OwnedView.from_body(body)


def children(deployment: DeploymentView | None = None) -> dict[ChildKind, Any]:
    built = target()
    found: dict[ChildKind, Any] = {
        ChildKind.CONFIG_MAP: owned(build_config_map(built)),
        ChildKind.SERVICE: owned(build_service(built)),
    }
    if deployment is not None:
        found[ChildKind.DEPLOYMENT] = deployment
    return found


def inputs(**fields: Any) -> EndpointInputs:
    values: dict[str, Any] = {
        "endpoint": endpoint(),
        "now": at(30),
        "dependency": READY,
        "runtime": target().runtime,
        "model_type": "random_forest",
    }
    values.update(fields)
    return EndpointInputs(**values)


def test_a_new_endpoint_creates_its_three_children_in_order() -> None:
    decision = decide_endpoint(inputs())
    assert [(w.kind, w.write) for w in decision.writes] == [
        (ChildKind.CONFIG_MAP, Write.CREATE),
        (ChildKind.SERVICE, Write.CREATE),
        (ChildKind.DEPLOYMENT, Write.CREATE),
    ]
    status = decision.status
    assert (status.phase, status.reason) == (
        EndpointPhase.PENDING,
        EndpointReason.DEPLOYMENT_CREATED,
    )
    assert status.framework is not None
    assert status.framework.value == "sklearn"
    assert status.selector == "aijob.dev/endpoint=iris"
    assert status.url is None


def test_children_as_built_are_left_alone() -> None:
    view = deployment_view()
    decision = decide_endpoint(
        inputs(children=children(view), pods=[server_pod(revision=revision_of(view), ready=True)])
    )
    assert decision.writes == ()
    status = decision.status
    assert (status.phase, status.ready_replicas, status.replicas) == (EndpointPhase.READY, 1, 1)
    assert status.model == MODEL
    assert status.url == "http://iris.ns.svc:80"


def test_the_same_training_job_re_run_rolls_out_its_new_model() -> None:
    view = deployment_view()
    decision = decide_endpoint(
        inputs(
            dependency=RETRAINED_READY,
            children=children(view),
            pods=[server_pod(revision=revision_of(view), ready=True)],
        )
    )
    # Same URI, new checksum and uid: the settings file carries the checksum the server
    # checks before loading, so both it and the pod template change.
    assert [(w.kind, w.write) for w in decision.writes] == [
        (ChildKind.CONFIG_MAP, Write.APPLY),
        (ChildKind.DEPLOYMENT, Write.APPLY),
    ]
    template = decision.writes[1].child.to_dict()["spec"]["template"]["metadata"]
    assert template["annotations"]["aijob.dev/model-checksum"] == RETRAINED.checksum
    assert template["annotations"]["aijob.dev/training-job-uid"] == RETRAINED.training_job_uid


def test_another_training_job_named_rewrites_the_settings_and_rolls_out() -> None:
    view = deployment_view()
    other = replace(READY, model_uri="file:///var/lib/aijob/artifacts/ns/iris-v2/model")
    decision = decide_endpoint(inputs(dependency=other, children=children(view)))
    assert [(w.kind, w.write) for w in decision.writes] == [
        (ChildKind.CONFIG_MAP, Write.APPLY),
        (ChildKind.DEPLOYMENT, Write.APPLY),
    ]


def test_a_scale_applies_the_deployment_only() -> None:
    view = deployment_view()
    decision = decide_endpoint(
        inputs(endpoint=endpoint(spec={"replicas": 3}), children=children(view))
    )
    assert [(w.kind, w.write) for w in decision.writes] == [(ChildKind.DEPLOYMENT, Write.APPLY)]
    assert decision.writes[0].child.to_dict()["spec"]["replicas"] == 3


def test_while_the_training_job_re_runs_the_endpoint_keeps_serving_its_model() -> None:
    view = deployment_view()
    decision = decide_endpoint(
        inputs(
            dependency=RERUNNING,
            children=children(view),
            pods=[server_pod(revision=revision_of(view), ready=True)],
        )
    )
    assert decision.writes == ()
    status = decision.status
    assert status.phase is EndpointPhase.READY
    assert status.model == MODEL
    assert "keep serving the model they have" in (status.message or "")
    resolved = {c.type: c for c in status.conditions}[EndpointConditionType.MODEL_RESOLVED]
    assert (resolved.status, resolved.reason) == ("False", EndpointReason.WAITING_FOR_TRAINING_JOB)


@pytest.mark.parametrize(
    ("dependency", "phase", "reason"),
    [
        (RERUNNING, EndpointPhase.PENDING, EndpointReason.WAITING_FOR_TRAINING_JOB),
        (
            Dependency(
                DependencyState.FAILED, message="training job iris does not exist", found=False
            ),
            EndpointPhase.FAILED,
            EndpointReason.TRAINING_JOB_NOT_FOUND,
        ),
        (
            Dependency(DependencyState.FAILED, message="training job iris ended Failed"),
            EndpointPhase.FAILED,
            EndpointReason.TRAINING_JOB_FAILED,
        ),
    ],
)
def test_no_model_no_deployment(dependency: Dependency, phase: EndpointPhase, reason: str) -> None:
    decision = decide_endpoint(inputs(dependency=dependency))
    assert decision.writes == ()
    assert (decision.status.phase, decision.status.reason) == (phase, reason)
    assert decision.status.message == dependency.message
    assert decision.requeue_after is not None


def test_a_runtime_the_catalog_refuses_fails_without_writes() -> None:
    error = "spec.resources.gpu: 1 GPU(s) asked for, but the sklearn 1.9 runtime cannot use GPUs"
    decision = decide_endpoint(inputs(runtime=None, runtime_error=error))
    assert decision.writes == ()
    assert (decision.status.phase, decision.status.reason) == (
        EndpointPhase.FAILED,
        EndpointReason.INVALID_SPEC,
    )
    assert decision.status.message == error


def test_a_stranger_with_the_endpoints_name_is_left_alone() -> None:
    found = children()
    found[ChildKind.SERVICE] = owned(build_service(target()), owner="someone-else")
    decision = decide_endpoint(inputs(children=found))
    assert decision.writes == ()
    assert (decision.status.phase, decision.status.reason) == (
        EndpointPhase.PENDING,
        EndpointReason.NAME_TAKEN,
    )
    assert "a Service named iris exists" in (decision.status.message or "")


def test_the_status_is_written_once_and_transitions_post_events() -> None:
    first = decide_endpoint(inputs())
    patch = endpoint_status_patch(endpoint().status, first.status)
    assert patch["phase"] == "Pending"
    event = endpoint_event(endpoint().status, first.status)
    assert event is not None
    assert (event.type, event.reason) == ("Normal", "DeploymentCreated")
    written = endpoint(status=first.status.model_dump(mode="json", by_alias=True))
    again = decide_endpoint(inputs(endpoint=written, now=at(90)))
    assert endpoint_status_patch(written.status, again.status) == {}
    assert endpoint_event(written.status, again.status) is None


def test_a_failure_is_a_warning_event() -> None:
    bad = decide_endpoint(inputs(dependency=Dependency(DependencyState.FAILED, message="gone")))
    event = endpoint_event(endpoint().status, bad.status)
    assert event is not None
    assert event.type == "Warning"
    assert event.message == "Failed: gone"


def test_the_gateways_fields_are_never_in_the_operators_patch() -> None:
    current = endpoint(status={"inFlight": 7, "requestsPerSecond": 3.5})
    decision = decide_endpoint(inputs(endpoint=current))
    assert decision.status.in_flight == 7
    patch = endpoint_status_patch(current.status, decision.status)
    assert not {"inFlight", "requestsPerSecond", "loadUpdatedAt"} & patch.keys()


def test_conditions() -> None:
    view = deployment_view()
    status = decide_endpoint(
        inputs(children=children(view), pods=[server_pod(revision=revision_of(view), ready=True)])
    ).status
    conditions = {c.type: (c.status, c.reason) for c in status.conditions}
    assert conditions == {
        EndpointConditionType.MODEL_RESOLVED: ("True", EndpointReason.MODEL_RESOLVED),
        EndpointConditionType.READY: ("True", EndpointReason.SERVING),
        EndpointConditionType.ROLLED_OUT: ("True", EndpointReason.SERVING),
    }
