"""A standby's status server answers 503 (only the leader writes), and the same server
checks reports once its replica leads: real Lease, real electors, real HTTPS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aijob_api.status_report import STATUS_PATH_PREFIX
from aijob_operator.informer import ChildCache
from aijob_operator.kube import KubeApi
from aijob_operator.leader_election import LeaderElector
from aijob_operator.lease_decide import Timings
from aijob_operator.status_config import StatusServerSettings
from aijob_operator.status_server import StatusServer
from aijob_operator.status_tokens import TokenCache, TokenReviewer
from aijob_operator.store import AIJobStore
from lightkube import AsyncClient, KubeConfig

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually_async
from tests.support.tls import self_signed_pair

FAST = Timings(lease_duration=3.0, renew_deadline=2.0, retry_period=0.5)
LEASE = "aijob-status-standby-test"


@pytest.fixture
async def client(cluster: ClusterInfo) -> AsyncIterator[AsyncClient]:
    config = KubeConfig.from_file(str(cluster.kubeconfig))
    async with AsyncClient(config=config, field_manager="aijob-tests") as opened:
        yield opened


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_standby_answers_503_and_checks_reports_once_it_leads(
    client: AsyncClient, namespace: str, tmp_path: Path
) -> None:
    tasks: list[asyncio.Task[None]] = []
    leader = LeaderElector(client, namespace, LEASE, "leader", FAST, lambda: None)
    tasks.append(asyncio.create_task(leader.run()))
    await asyncio.wait_for(leader.leading.wait(), Timeout.API)
    standby = LeaderElector(client, namespace, LEASE, "standby", FAST, lambda: None)
    tasks.append(asyncio.create_task(standby.run()))

    pair = self_signed_pair(tmp_path, "aijob-operator-status")
    port = free_port()
    settings = StatusServerSettings(
        status_tls_cert_file=pair.cert, status_tls_key_file=pair.key,
        status_host="127.0.0.1", status_port=port,
    )  # fmt: skip
    reviewer = TokenReviewer(client, TokenCache(10, 60, asyncio.get_running_loop().time), time.time)
    server = StatusServer(
        settings, KubeApi(client), reviewer, AIJobStore(), ChildCache(), ChildCache(),
        standby.leading.is_set,
    )  # fmt: skip
    await server.start()
    context = ssl.create_default_context(cafile=str(pair.cert))
    path = f"{STATUS_PATH_PREFIX}/{namespace}/some-job"
    headers = {"Authorization": "Bearer not-a-token"}
    try:
        async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{port}", verify=context) as http:
            answer = await http.post(
                path, json={"uid": "u", "pod": "p", "sequence": 1}, headers=headers
            )
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "1"
            assert answer.json()["reason"] == "not_leader"

            tasks[0].cancel()  # the leader dies without releasing: the standby takes over
            await eventually_async(standby.leading.is_set, timeout=Timeout.API, what="takeover")
            answer = await http.post(
                path, json={"uid": "u", "pod": "p", "sequence": 1}, headers=headers
            )
            assert answer.status_code == 401, answer.text  # now its checks run
            assert server.reviewer.reviews == 1  # a real TokenReview refused the token
    finally:
        await server.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
