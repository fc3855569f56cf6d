"""The builtin autoscaler against the real API server: the operator (in-process) reads the load a
gateway writes into an AIEndpoint's status, as the gateway writes it, and moves spec.replicas
(the scale subresource) and the Deployment within minReplicas and maxReplicas; back to min after
the quiet period; never with autoscaling.mode external. Pods run on the KWOK nodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aijob_api import contract
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_conditions import EndpointPhase, EndpointReason
from aijob_gateway.services.endpoint_load import LoadFigures, load_patch
from aijob_operator.endpoint_autoscale import EXTERNAL_MESSAGE
from lightkube import Client

from tests.integration.operator.endpoints import AIEndpoints
from tests.support.eventually import Timeout, eventually
from tests.support.kubectl import kubectl

NAME = "scaler"
GATEWAY = "aijob-gateway-7d9f-test"
"""The gateway pod the test writes as."""
QUIET_SECONDS = 3


@pytest.fixture
def endpoints(kube: Client, namespace: str) -> AIEndpoints:
    """AIEndpoints of the test's namespace."""
    return AIEndpoints(kube, namespace)


def manifest(namespace: str, **autoscaling: Any) -> dict[str, Any]:
    """An endpoint of a model in the tenant's store: 1 to 3 replicas of concurrency 4 (2.8 per
    replica at the default 70% target), a quiet period of a few seconds."""
    return {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIEndpoint",
        "metadata": {"name": NAME},
        "spec": {
            "model": {
                "source": {"uri": f"file://{contract.ARTIFACTS_MOUNT_PATH}/{namespace}/iris/model"},
                "type": "random_forest",
            },
            "replicas": 1,
            "minReplicas": 1,
            "maxReplicas": 3,
            "concurrency": 4,
            "resources": {"cpu": "100m", "memory": "128Mi"},
            "autoscaling": {"scaleDownDelaySeconds": QUIET_SECONDS, **autoscaling},
        },
    }


def publish(
    endpoints: AIEndpoints, in_flight: int, *, gateway: str = GATEWAY, age: float = 0.0
) -> None:
    """Write a gateway pod's load into the status, with the gateway's own patch."""
    status = endpoints.get(NAME).status
    written = datetime.now(UTC) - timedelta(seconds=age)
    figures = LoadFigures(in_flight=in_flight, requests_per_second=2.5)
    endpoints.patch_status(NAME, load_patch(gateway, figures, status, written, refresh=30.0))


def deployment_replicas(endpoints: AIEndpoints) -> int | None:
    deployment = endpoints.deployment(NAME)
    assert deployment is not None
    assert deployment.spec is not None
    return deployment.spec.replicas


def settled(endpoints: AIEndpoints, replicas: int, what: str) -> AIEndpoint:
    """Wait until spec.replicas, the Deployment and the ready replicas are all `replicas`."""
    return endpoints.wait(
        NAME,
        lambda item: (
            item.spec.replicas == replicas
            and deployment_replicas(endpoints) == replicas
            and item.status.ready_replicas == replicas
            and item.status.phase is EndpointPhase.READY
        ),
        timeout=Timeout.SCHEDULING,
        what=what,
    )


def message_of(item: AIEndpoint) -> str:
    return item.status.autoscaling.message or "" if item.status.autoscaling else ""


@pytest.mark.usefixtures("operator")
def test_replicas_follow_the_published_load_and_return_to_min_after_the_quiet_period(
    endpoints: AIEndpoints,
) -> None:
    endpoints.create(manifest(endpoints.namespace))
    ready = settled(endpoints, 1, "1 replica ready")
    # Before the test writes a load: none, or, where the chart's gateway runs too (make test
    # installs the demo's release), that gateway's zero load for this endpoint's pod.
    assert message_of(ready).startswith(
        ("no gateway published this endpoint's load", "the load asks for 1 replica")
    )

    # A gateway gone for minutes (its entry stale) counts for nothing; a live one's 2 fit 1.
    publish(endpoints, 40, gateway="aijob-gateway-gone", age=200)
    publish(endpoints, 2)
    fits = endpoints.wait(
        NAME,
        lambda item: message_of(item) == "the load asks for 1 replica: as many as there are",
        timeout=Timeout.API,
        what="the fresh load read, the stale one left out",
    )
    assert fits.spec.replicas == 1

    publish(endpoints, 14)
    scaled = settled(endpoints, 3, "scaled up to maxReplicas 3")
    autoscaling = scaled.status.autoscaling
    assert autoscaling is not None
    assert autoscaling.message == (
        "scaled from 1 to 3: 14 requests outstanding for 1 replica at concurrency 4 "
        "(target 70%), 5 asked for, maxReplicas 3"
    )
    assert autoscaling.wanted_replicas == 3
    assert autoscaling.last_scale_time is not None
    assert scaled.status.in_flight == 14
    up = [message for reason, message in endpoints.events(NAME) if reason == "ScaledUp"]
    assert up == [autoscaling.message]

    publish(endpoints, 0)
    quiet = endpoints.wait(
        NAME,
        lambda item: (
            item.status.autoscaling is not None and item.status.autoscaling.quiet_since is not None
        ),
        timeout=Timeout.API,
        what="the quiet period begun",
    )
    assert quiet.spec.replicas == 3, "not before the quiet period is over"
    back = settled(endpoints, 1, "back to minReplicas after the quiet period")
    down = back.status.autoscaling
    assert down is not None
    assert (down.message or "").startswith("scaled from 3 to 1: the load asked for at most 1")
    assert down.quiet_since is None
    reasons = endpoints.event_reasons(NAME)
    assert reasons.count(EndpointReason.SCALED_UP) == 1
    assert reasons.count(EndpointReason.SCALED_DOWN) == 1


@pytest.mark.usefixtures("operator")
def test_mode_external_leaves_the_replicas_to_the_scale_subresource(
    endpoints: AIEndpoints, namespace: str
) -> None:
    endpoints.create(manifest(namespace, mode="external"))
    ready = settled(endpoints, 1, "1 replica ready")
    assert message_of(ready) == EXTERNAL_MESSAGE

    publish(endpoints, 14)
    # What an HPA or KEDA does: the operator follows it (a reconcile that sees the load too)
    # and leaves spec.replicas where it was put, whatever the load.
    kubectl("scale", f"aiendpoint/{NAME}", "--replicas=2", "-n", namespace)
    followed = settled(endpoints, 2, "the Deployment at the 2 replicas set from outside")
    assert followed.status.in_flight == 14
    assert message_of(followed) == EXTERNAL_MESSAGE
    assert EndpointReason.SCALED_UP not in endpoints.event_reasons(NAME)

    # Back to builtin: the same load now scales it up.
    endpoints.patch_spec(NAME, {"autoscaling": {"mode": "builtin"}})
    publish(endpoints, 14)
    eventually(
        lambda: endpoints.get(NAME).spec.replicas == 3,
        timeout=Timeout.API,
        what="builtin again: scaled up for the load",
    )
