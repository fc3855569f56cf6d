"""The operator's client for model server pods: opened at its first request, closed once."""

from __future__ import annotations

import socket

import pytest
from aijob_operator.replica_client import ReplicaClient


def refused_address() -> str:
    """An address on loopback where nothing listens (a port just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_a_client_that_never_sent_closes_cleanly() -> None:
    client = ReplicaClient()
    await client.close()
    await client.close()


async def test_a_refused_replica_is_a_connection_error_and_the_pool_closes_after() -> None:
    client = ReplicaClient(connect_timeout_seconds=1.0)
    with pytest.raises(ConnectionError, match="ConnectError"):
        await client.post(refused_address(), "/v2/models/m/infer", b"{}", timeout_seconds=2.0)
    await client.close()
