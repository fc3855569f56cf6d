"""HTTP to an endpoint's model server pods, for the jobs the operator runs on endpoints.

One pooled async client for the whole operator (opened at its first request, closed at
clean-up: an operator that runs no job on an endpoint never loads its TLS trust store).
The operator reaches a replica at its pod IP and the container port named
`http`, as the gateway's dispatcher does: that works from a pod of the cluster and from
a host of its nodes alike, where the Service's in-cluster name does not resolve.
A replica that does not answer (refused, reset, timed out) raises `ConnectionError`,
which the run counts as the replica's fault and tries again elsewhere.
"""

from __future__ import annotations

from typing import Final

import httpx2

CONNECT_TIMEOUT_SECONDS: Final = 3.0
"""Longest wait for a replica to accept the connection (a dead pod IP may not refuse)."""
MAX_CONNECTIONS: Final = 64


class ReplicaClient:
    """POSTs JSON to model server pods over one connection pool."""

    def __init__(
        self,
        connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._connect_timeout = connect_timeout_seconds
        self._max_connections = max_connections
        self._opened: httpx2.AsyncClient | None = None

    @property
    def _http(self) -> httpx2.AsyncClient:
        if self._opened is None:
            self._opened = httpx2.AsyncClient(
                limits=httpx2.Limits(
                    max_connections=self._max_connections,
                    max_keepalive_connections=self._max_connections,
                ),
                follow_redirects=False,
            )
        return self._opened

    async def post(
        self, address: str, path: str, body: bytes, timeout_seconds: float
    ) -> tuple[int, bytes]:
        """The status and body of the replica's answer; ConnectionError when it gives none."""
        timeout = httpx2.Timeout(
            timeout_seconds, connect=min(timeout_seconds, self._connect_timeout)
        )
        try:
            response = await self._http.post(
                address + path,
                content=body,
                headers={"content-type": "application/json"},
                timeout=timeout,
            )
        except httpx2.TransportError as error:
            raise ConnectionError(f"{type(error).__name__}: {error}") from error
        return response.status_code, response.content

    async def close(self) -> None:
        """Close the connection pool (if it was ever opened)."""
        if self._opened is not None:
            await self._opened.aclose()
            self._opened = None
