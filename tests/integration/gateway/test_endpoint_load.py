"""The gateway publishes each endpoint's load into its status, on the real API server: the
requests it holds (sent to a replica or queued) under its own entry of status.gatewayLoad and
in the sums, then zero and the answer rate once they are answered. The replica is the real model
server (tests/support/model_server.py); the throttling itself is unit-tested."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_scaling import GatewayLoad
from aijob_kube.resources import AIEndpointResource
from lightkube import Client

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, TenantKey
from tests.support.model_server import VIRGINICA, LocalModelServer, ready_replica

ENDPOINT: dict[str, Any] = {  # named as the model server's model
    "name": "iris",
    "spec": {
        "model": {"source": {"trainingJob": "iris-forest"}},
        "concurrency": 2,
        "requestTimeoutSeconds": 30,
    },
}
HELD = 4
"""Requests sent at once: 2 held by the replica (its concurrency), 2 queued in the gateway."""


def own_entry(kube: Client, tenant: TenantKey, gateway: RunningGateway) -> GatewayLoad:
    """This gateway's entry in the endpoint's status (an AssertionError while there is none)."""
    body = kube.get(AIEndpointResource, "iris", namespace=tenant.namespace)
    status = AIEndpoint.model_validate(dict(body)).status
    entry = status.gateway_load.get(gateway.settings.instance)
    assert entry is not None, status.gateway_load
    return entry


def test_the_load_held_is_published_then_zero_with_the_answer_rate(
    api: httpx.Client,
    tenant: TenantKey,
    kube: Client,
    gateway: RunningGateway,
    model_server: LocalModelServer,
) -> None:
    model_server.clear_faults()
    created = api.post("/v1/endpoints", json=ENDPOINT)
    assert created.status_code == 201, created.text
    ready_replica(kube, api, tenant.namespace, "iris-0", model_server.port)
    idle = eventually(
        lambda: own_entry(kube, tenant, gateway),
        timeout=Timeout.API,
        what="the gateway's entry of an idle endpoint",
    )
    assert idle.in_flight == 0

    model_server.inject(mode="delay", count=2, delayMs=8_000)
    body = {"records": [VIRGINICA]}
    with ThreadPoolExecutor(HELD) as pool:
        pending = [
            pool.submit(api.post, "/v1/endpoints/iris/infer", json=body) for _ in range(HELD)
        ]

        def holding() -> GatewayLoad:
            entry = own_entry(kube, tenant, gateway)
            assert entry.in_flight == HELD, entry
            return entry

        eventually(holding, timeout=Timeout.API, what=f"{HELD} requests published as held")
        status = AIEndpoint.model_validate(
            dict(kube.get(AIEndpointResource, "iris", namespace=tenant.namespace))
        ).status
        assert status.in_flight is not None
        assert status.in_flight >= HELD
        assert status.load_updated_at is not None
        answers = [future.result(timeout=Timeout.API) for future in pending]
    assert [answer.status_code for answer in answers] == [200] * HELD

    def answered() -> GatewayLoad:
        entry = own_entry(kube, tenant, gateway)
        assert (entry.in_flight, entry.requests_per_second > 0) == (0, True), entry
        return entry

    eventually(answered, timeout=Timeout.API, what="nothing held, a rate of answers")
