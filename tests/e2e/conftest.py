"""The chart installed for real: operator and gateway pods on the real node, one session.

The `release` fixture (tests/support/release.py) runs `helm upgrade --install --wait`
with helm/aijob/values-local.yaml into a namespace of its own, with the operator watching
two tenant namespaces (the second, the hostile tenant of test_hostile_tenant.py, under
the admin's limits of the chart's `tenants` values) and a per-key rate limit high enough
for the inference bursts, and a runtime catalog whose scikit-learn runtime lets the first
tenant install requirements (test_requirements.py), and uninstalls all of it at the end.
`api` talks to the gateway Service through `kubectl port-forward` (the real kubelet
streams it; started again whenever it exits, as it does when the kubelet restarts) with
an API key minted by the gateway image's own `python -m aijob_gateway.keys` (`rival_api`,
the second tenant's key, likewise); `inference` calls the same Service at its ClusterIP,
as a client pod would. The suite skips, saying why, on a
cluster without a Ready real node or without the images `make images` imports.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aijob_operator.catalog import load_catalog
from lightkube import Client

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.kubectl import kubectl_binary
from tests.support.release import (
    LOAD_TEST_RATE_LIMIT,
    Release,
    gateway_service_url,
    install_release,
    mint_api_key,
    missing_prerequisites,
    uninstall_release,
)

__all__ = ["Release"]

RELEASE = "aijob-e2e"
SYSTEM_NAMESPACE = "aijob-e2e"
TENANT_NAMESPACE = "aijob-e2e-jobs"
RIVAL_NAMESPACE = "aijob-e2e-rival"
"""The second tenant: the hostile one of test_hostile_tenant.py, under the admin's limits."""
STORELESS_NAMESPACE = "aijob-e2e-storeless"
"""A namespace the operator watches that has no store until a test adds it."""
RIVAL_LIMITS: dict[str, object] = {
    "allowedPriorities": ["normal", "low"],
    "maxGpusPerJob": 1,
    "maxGpus": 1,
}
"""The second tenant's limits, set through the chart's `tenants` values."""
REQUIREMENTS_INDEX_IP = "10.0.0.13"
"""The ClusterIP test_requirements.py gives its package index's Service (no cluster DNS here:
the catalog names the address; a static one from the low band of 10.0.0.0/24)."""
REQUIREMENTS_INDEX_URL = f"http://{REQUIREMENTS_INDEX_IP}:8080/simple"


def e2e_catalog() -> dict[str, Any]:
    """The shipped runtime catalog, its scikit-learn runtime letting the first tenant install
    spec.code.requirements from the package index of test_requirements.py."""
    catalog: dict[str, Any] = load_catalog().model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    sklearn = catalog["frameworks"]["sklearn"]
    sklearn["versions"][sklearn["defaultVersion"]]["requirements"] = {
        "namespaces": [TENANT_NAMESPACE],
        "indexUrl": REQUIREMENTS_INDEX_URL,
        "trustedHosts": [f"{REQUIREMENTS_INDEX_IP}:8080"],
        "timeoutSeconds": 120,
    }
    return catalog


@pytest.fixture(scope="session")
def release(cluster: ClusterInfo, kube: Client) -> Iterator[Release]:
    """The chart installed with the local values; uninstalled afterwards."""
    reason = missing_prerequisites(kube)
    if reason:
        pytest.skip(reason)
    rival_limits = [{"namespace": RIVAL_NAMESPACE, **RIVAL_LIMITS}]
    installed = install_release(
        kube,
        Release(
            name=RELEASE,
            namespace=SYSTEM_NAMESPACE,
            tenant=TENANT_NAMESPACE,
            other_tenants=(RIVAL_NAMESPACE,),
            storeless=(STORELESS_NAMESPACE,),
        ),
        *LOAD_TEST_RATE_LIMIT,
        "--set-json", f"tenants={json.dumps(rival_limits)}",
        "--set-json", f"catalog={json.dumps(e2e_catalog())}",
    )  # fmt: skip
    try:
        yield installed
    finally:
        uninstall_release(kube, installed)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _KeptForward:
    """`kubectl port-forward` on one local port, started again whenever it exits: it
    streams through the real node's kubelet, and a restart of the kubelet
    (test_node_restart.py) ends it, which would leave every later test unable to connect."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.stopping = threading.Event()
        self.process = self._start()
        self.thread = threading.Thread(target=self._keep, name="port-forward", daemon=True)
        self.thread.start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=os.environ.copy(),
        )

    def _keep(self) -> None:
        while not self.stopping.wait(0.5):
            if self.process.poll() is not None:
                self.process = self._start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def gateway_url(release: Release) -> Iterator[str]:
    """The gateway Service, forwarded to a local port by kubectl port-forward (kept up)."""
    port = _free_port()
    forward = _KeptForward(
        [
            kubectl_binary(), "-n", release.namespace, "port-forward",
            f"svc/{release.name}-gateway", f"{port}:80",
        ]
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError as error:
            raise AssertionError(f"gateway not reachable yet: {error}") from error

    try:
        eventually(ready, timeout=Timeout.REAL_POD, what="gateway answers through port-forward")
        yield url
    finally:
        forward.stop()


@pytest.fixture(scope="session")
def api_key(release: Release) -> str:
    """A key for the tenant namespace, minted inside the gateway pod."""
    return mint_api_key(release)


@pytest.fixture(scope="session")
def api(gateway_url: str, api_key: str) -> Iterator[httpx.Client]:
    """An HTTP client for the gateway, authenticated as the tenant."""
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=gateway_url, headers=headers, timeout=30) as client:

        def accepted() -> bool:
            return client.get("/v1/jobs").status_code == 200

        eventually(accepted, timeout=Timeout.API, what="the new key is accepted")
        yield client


@pytest.fixture(scope="session")
def rival_api(release: Release, gateway_url: str) -> Iterator[httpx.Client]:
    """An HTTP client for the gateway, authenticated as the second (hostile) tenant."""
    headers = {"Authorization": f"Bearer {mint_api_key(release, RIVAL_NAMESPACE)}"}
    with httpx.Client(base_url=gateway_url, headers=headers, timeout=30) as client:

        def accepted() -> bool:
            return client.get("/v1/jobs").status_code == 200

        eventually(accepted, timeout=Timeout.API, what="the rival's key is accepted")
        yield client


@pytest.fixture(scope="session")
def inference(release: Release, kube: Client, api: httpx.Client) -> Iterator[httpx.Client]:
    """The gateway called at its Service's ClusterIP, as a client pod calls it (no tunnel).

    Bursts of inference go this way: kubectl port-forward is a debugging tunnel whose own
    failures under load would hide the gateway's. The key is the `api` client's.
    """
    headers = {"Authorization": api.headers["Authorization"]}
    url = gateway_service_url(kube, release)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    with httpx.Client(base_url=url, headers=headers, timeout=30, limits=limits) as client:
        yield client
