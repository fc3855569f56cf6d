"""Log limits on a real running pod: a log read without follow is capped (limitBytes to the
API server) and says it was cut; followed streams are limited per key and in all (429 naming
the limit), a closed stream frees its slot, and while streams are held on the log client's
own pool the gateway's reads and writes go on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import pytest
from aijob_api.contract import CONTAINER_NAME
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Pod

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import (
    RunningGateway,
    ServerThread,
    TenantKey,
    mint_tenant_key,
    patch_status,
    start_gateway,
)
from tests.support.real_node import ready_real_nodes, real_pod

MAX_BYTES = 1024
LINE = "x" * 50
LINES = 40  # 40 lines of "NN " + 50 characters: about 2 KiB, twice the cap
JOB = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}


@dataclass(frozen=True)
class LogSetup:
    """A gateway with small log limits, two keys of one tenant and a job on a running pod."""

    server: ServerThread
    gateway: RunningGateway
    first: TenantKey
    second: TenantKey
    job: str

    def logs_url(self) -> str:
        return f"{self.gateway.url}/v1/jobs/{self.job}/logs"


@pytest.fixture(scope="module")
def setup(cluster: ClusterInfo, kube: Client, aijob_crd: str) -> Iterator[LogSetup]:
    assert ready_real_nodes(kube), "these tests need the real node (make node-up)"
    system, tenant = (f"{prefix}-{uuid.uuid4().hex[:10]}" for prefix in ("gw", "t"))
    for name in (system, tenant):
        kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"})))
    server, gateway = start_gateway(
        cluster, system, log_streams_per_key=2, log_streams_total=3, logs_max_bytes=MAX_BYTES
    )
    try:
        first, second = mint_tenant_key(gateway, tenant), mint_tenant_key(gateway, tenant)
        script = f"for i in $(seq 10 {9 + LINES}); do echo $i {LINE}; done; exec sleep 3600"
        pod = real_pod("talker", ["sh", "-c", script], grace_seconds=0)
        assert pod.spec is not None
        pod.spec.containers[0].name = CONTAINER_NAME
        kube.create(pod, namespace=tenant)
        submitted = httpx.post(
            f"{gateway.url}/v1/jobs", json={"name": "talker", "spec": JOB}, headers=first.headers
        )
        assert submitted.status_code == 201, submitted.text
        patch_status(kube, tenant, "talker", {"podName": "talker"})
        setup = LogSetup(server, gateway, first, second, "talker")

        def printed() -> bool:
            response = httpx.get(setup.logs_url(), headers=first.headers, params={"tail": 1})
            assert response.status_code == 200, response.text
            return response.text == f"{9 + LINES} {LINE}\n"

        eventually(printed, timeout=Timeout.REAL_POD, what="the pod's log through the gateway")
        yield setup
    finally:
        server.stop()
        kube.delete(Pod, "talker", namespace=tenant, grace_period=0)
        for name in (system, tenant):
            kube.delete(Namespace, name)


def test_a_log_read_without_follow_is_capped_and_says_so(setup: LogSetup) -> None:
    whole = httpx.get(setup.logs_url(), headers=setup.first.headers)
    assert whole.status_code == 200
    head, marker = whole.content[:MAX_BYTES], whole.content[MAX_BYTES:]
    assert head.startswith(f"10 {LINE}\n11 {LINE}\n".encode())
    assert marker.startswith(b"\n[aijob gateway: log cut at 1024 bytes")
    assert b"logs_max_bytes" in marker
    assert f"{9 + LINES} {LINE}" not in whole.text
    # What fits is whole and unmarked: the last lines, by tail.
    tail = httpx.get(setup.logs_url(), headers=setup.first.headers, params={"tail": 3})
    assert tail.text.splitlines() == [f"{n} {LINE}" for n in range(LINES + 7, LINES + 10)]


@contextmanager
def followed(setup: LogSetup, key: TenantKey) -> Iterator[bytes]:
    """A followed log stream, held open until the block ends; yields its first bytes."""
    timeout = httpx.Timeout(30, read=None)
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream(
            "GET", setup.logs_url(), headers=key.headers, params={"follow": "true"}
        ) as response,
    ):
        assert response.status_code == 200
        # Kept referenced until the block ends: a dropped iterator closes the connection.
        chunks = response.iter_bytes()
        yield next(chunks)


def test_followed_streams_are_limited_per_key_and_in_all(setup: LogSetup) -> None:
    follow = {"follow": "true"}
    with ExitStack() as held:
        for _ in range(2):
            assert held.enter_context(followed(setup, setup.first)).startswith(b"10 ")
        per_key = httpx.get(setup.logs_url(), headers=setup.first.headers, params=follow)
        assert per_key.status_code == 429
        assert "log_streams_per_key=2" in per_key.json()["detail"]
        assert per_key.headers["retry-after"]
        held.enter_context(followed(setup, setup.second))
        total = httpx.get(setup.logs_url(), headers=setup.second.headers, params=follow)
        assert total.status_code == 429
        assert "log_streams_total=3" in total.json()["detail"]
        # A log read without follow takes no slot; reads and writes go on.
        assert httpx.get(setup.logs_url(), headers=setup.second.headers).status_code == 200
        jobs = f"{setup.gateway.url}/v1/jobs"
        assert httpx.get(jobs, headers=setup.second.headers).status_code == 200
        created = httpx.post(jobs, json={"spec": JOB}, headers=setup.second.headers)
        assert created.status_code == 201, created.text
        runtime = setup.server.server.config.app.state.runtime  # type: ignore[union-attr]
        assert runtime.log_streams.open_streams() == 3
        assert runtime.log_client._client._client is not runtime.client._client._client
    # Closed streams give their slots back (once the gateway sees the client gone).

    def reopened() -> bool:
        with followed(setup, setup.first):
            return True

    eventually(reopened, timeout=Timeout.API, what="a slot freed by a closed stream")
    eventually(
        lambda: runtime.log_streams.open_streams() == 0,
        timeout=Timeout.API,
        what="every slot given back once its client left",
    )
