"""The operator's client for model server pods: opened at its first request, closed once."""

from __future__ import annotations

import pytest
from aijob_operator.replica_client import ReplicaClient

from tests.support.model_server import free_port


async def test_a_client_that_never_sent_closes_cleanly() -> None:
    client = ReplicaClient()
    await client.close()
    await client.close()


async def test_a_refused_replica_is_a_connection_error_and_the_pool_closes_after() -> None:
    client = ReplicaClient(connect_timeout_seconds=1.0)
    with pytest.raises(ConnectionError, match="ConnectError"):
        await client.post(
            f"http://127.0.0.1:{free_port()}", "/v2/models/m/infer", b"{}", timeout_seconds=2.0
        )
    await client.close()
