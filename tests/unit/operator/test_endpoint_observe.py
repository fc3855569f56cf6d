"""observe_endpoint: the phase, reason and words of an endpoint, from its Deployment and pods."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.endpoint_conditions import EndpointPhase, EndpointReason
from aijob_operator.endpoint_observe import observe_endpoint
from aijob_operator.endpoint_views import EndpointPodView

from tests.unit.operator.endpoint_factories import (
    MODEL,
    RETRAINED,
    deployment_view,
    endpoint,
    revision_of,
    server_pod,
    target,
)
from tests.unit.operator.factories import unschedulable

DEPLOYMENT = deployment_view()
CURRENT = revision_of(DEPLOYMENT)
GPU_SPEC: dict[str, Any] = {"resources": {"gpu": 2}}


def observe(pods: list[EndpointPodView], spec: dict[str, Any] | None = None, **status: Any) -> Any:
    view = deployment_view(**status) if status else DEPLOYMENT
    return observe_endpoint(endpoint(spec=spec).spec, view, pods)


def crashed(code: int, reason: str = "Error", message: str = "") -> dict[str, Any]:
    return {"exitCode": code, "reason": reason, "message": message}


BACKOFF = {"reason": "CrashLoopBackOff", "message": "back-off 20s restarting failed container"}


@pytest.mark.parametrize(
    ("pods", "spec", "phase", "reason", "words"),
    [
        (
            [],
            None,
            EndpointPhase.PENDING,
            EndpointReason.DEPLOYMENT_CREATED,
            "creating and scheduling",
        ),
        (
            [server_pod(revision=CURRENT, phase="Pending", node=None)],
            None,
            EndpointPhase.PENDING,
            EndpointReason.DEPLOYMENT_CREATED,
            "scheduling 1 replica",
        ),
        (
            [
                server_pod(
                    revision=CURRENT,
                    phase="Pending",
                    node=None,
                    conditions=[
                        unschedulable("0/4 nodes are available: 2 Insufficient nvidia.com/gpu.")
                    ],
                )
            ],
            GPU_SPEC,
            EndpointPhase.PENDING,
            EndpointReason.UNSCHEDULABLE,
            "no node with a free GPU (2 per replica)",
        ),
        (
            [
                server_pod(
                    revision=CURRENT,
                    phase="Pending",
                    node=None,
                    conditions=[unschedulable("0/4 nodes are available: 4 Insufficient memory.")],
                )
            ],
            None,
            EndpointPhase.PENDING,
            EndpointReason.UNSCHEDULABLE,
            "no node can take the replica: pod iris-7d9c-abcde cannot be scheduled: 0/4 nodes",
        ),
        (
            [
                server_pod(
                    revision=CURRENT,
                    phase="Pending",
                    waiting={"reason": "ImagePullBackOff", "message": "not found"},
                )
            ],
            None,
            EndpointPhase.FAILED,
            EndpointReason.IMAGE_MISSING,
            "image missing: pod iris-7d9c-abcde waits: ImagePullBackOff: not found",
        ),
        (
            [
                server_pod(
                    revision=CURRENT,
                    restarts=2,
                    waiting=BACKOFF,
                    last=crashed(65, message="bad input: modelUri: no model at file:///m"),
                )
            ],
            None,
            EndpointPhase.FAILED,
            EndpointReason.MODEL_LOAD_FAILED,
            "model failed to load: bad input: modelUri: no model at file:///m",
        ),
        (
            [server_pod(revision=CURRENT, restarts=1, last=crashed(137, "OOMKilled"))],
            {"resources": {"memory": "512Mi"}},
            EndpointPhase.FAILED,
            EndpointReason.OOM_KILLED,
            "OOMKilled (memory limit 512Mi)",
        ),
        (
            [
                server_pod(
                    revision=CURRENT, restarts=3, waiting=BACKOFF, last=crashed(1, message="boom")
                )
            ],
            None,
            EndpointPhase.FAILED,
            EndpointReason.SERVER_CRASHED,
            "exited with code 1 (Error): boom; restarted 3 time(s)",
        ),
        (
            [server_pod(revision=CURRENT)],
            None,
            EndpointPhase.LOADING,
            EndpointReason.MODEL_LOADING,
            "1 replica(s) loading the model of training job iris",
        ),
        (
            [
                server_pod(
                    revision=CURRENT, phase="Pending", waiting={"reason": "ContainerCreating"}
                )
            ],
            None,
            EndpointPhase.LOADING,
            EndpointReason.MODEL_LOADING,
            "is starting on node kwok-cpu-0: ContainerCreating",
        ),
    ],
)
def test_no_replica_ready(
    pods: list[EndpointPodView],
    spec: dict[str, Any] | None,
    phase: EndpointPhase,
    reason: str,
    words: str,
) -> None:
    seen = observe(pods, spec)
    assert (seen.phase, seen.reason) == (phase, reason)
    assert words in seen.message
    assert seen.served is None


def test_every_replica_ready_is_ready_and_says_what_it_serves() -> None:
    seen = observe([server_pod(revision=CURRENT, ready=True)])
    assert (seen.phase, seen.reason) == (EndpointPhase.READY, EndpointReason.SERVING)
    assert seen.served == MODEL
    assert "1 of 1 replica(s) ready, serving the model of training job iris" in seen.message


def test_a_rollout_serves_the_old_model_until_it_is_done() -> None:
    new = deployment_view(target(model=RETRAINED))
    old_pod = server_pod("iris-old-aaaaa", revision="old", ready=True)
    new_pod = server_pod("iris-new-bbbbb", revision=revision_of(new), model=RETRAINED)
    seen = observe_endpoint(endpoint().spec, new, [old_pod, new_pod])
    assert (seen.phase, seen.reason) == (EndpointPhase.UPDATING, EndpointReason.ROLLING_OUT)
    assert seen.served == MODEL
    assert "1 of 1 replica(s) updated, 1 ready" in seen.message


def test_a_new_model_that_does_not_load_degrades_the_endpoint_but_the_old_one_serves() -> None:
    new = deployment_view(target(model=RETRAINED))
    old_pod = server_pod("iris-old-aaaaa", revision="old", ready=True)
    new_pod = server_pod(
        "iris-new-bbbbb",
        revision=revision_of(new),
        model=RETRAINED,
        restarts=1,
        waiting=BACKOFF,
        last=crashed(65, message="bad input: modelType: the model is a svm"),
    )
    seen = observe_endpoint(endpoint().spec, new, [old_pod, new_pod])
    assert (seen.phase, seen.reason) == (EndpointPhase.DEGRADED, EndpointReason.MODEL_LOAD_FAILED)
    assert seen.message.startswith("1 of 1 replica(s) ready; model failed to load: bad input")
    assert seen.served == MODEL


def test_scaling_up_is_updating_not_degraded() -> None:
    spec = {"replicas": 2}
    view = deployment_view(target(endpoint(spec=spec)))
    pods = [
        server_pod("iris-a", revision=revision_of(view), ready=True),
        server_pod("iris-b", revision=revision_of(view)),
    ]
    seen = observe_endpoint(endpoint(spec=spec).spec, view, pods)
    assert (seen.phase, seen.reason) == (EndpointPhase.UPDATING, EndpointReason.SCALING)
    assert "scaling to 2 replica(s): 1 ready" in seen.message


def test_a_replica_without_a_node_while_another_serves_is_degraded() -> None:
    spec = {"replicas": 2, **GPU_SPEC}
    built = target(endpoint(spec=spec), framework="pytorch", model_type="mlp")
    view = deployment_view(built)
    waiting = server_pod(
        "iris-b",
        revision=revision_of(view),
        phase="Pending",
        node=None,
        conditions=[unschedulable("0/4 nodes are available: 2 Insufficient nvidia.com/gpu.")],
    )
    seen = observe_endpoint(
        endpoint(spec=spec).spec,
        view,
        [server_pod("iris-a", revision=revision_of(view), ready=True), waiting],
    )
    assert (seen.phase, seen.reason) == (EndpointPhase.DEGRADED, EndpointReason.UNSCHEDULABLE)
    assert "no node with a free GPU" in seen.message


def test_pods_the_deployment_cannot_create_are_named() -> None:
    failure = {
        "type": "ReplicaFailure",
        "status": "True",
        "reason": "FailedCreate",
        "message": 'pods "iris-x" is forbidden: exceeded quota: compute',
    }
    seen = observe([], conditions=[failure])
    assert (seen.phase, seen.reason) == (EndpointPhase.FAILED, EndpointReason.PODS_NOT_CREATED)
    assert "exceeded quota" in seen.message


def test_a_pod_being_deleted_serves_nothing() -> None:
    seen = observe([server_pod(revision=CURRENT, ready=True, deleting=True)])
    assert seen.phase is EndpointPhase.PENDING
    assert seen.served is None
