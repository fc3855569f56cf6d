"""A real gateway for the integration tests: uvicorn on a loopback port, in a thread.

The gateway talks to the session's real API server; tenants get real API keys
minted into a real Secret with the gateway's own admin tool. Fixtures here are
imported by the conftest of the gateway's and the CLI's integration suites.
"""

from __future__ import annotations

import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from aijob_gateway.__main__ import server_config
from aijob_gateway.app import create_app
from aijob_gateway.keys import KeyAdmin
from aijob_gateway.settings import GatewaySettings
from aijob_kube.resources import AIJobResource
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace
from lightkube.types import PatchType

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually


class ServerThread:
    """uvicorn serving one app on 127.0.0.1 (a free port), in a daemon thread; `config`
    replaces the plain one (the gateway's own, from `server_config`, HTTPS included)."""

    def __init__(self, app: Any, config: uvicorn.Config | None = None) -> None:
        config = config or uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, lifespan="on"
        )
        self.scheme = "https" if config.ssl_certfile else "http"
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="gateway")

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        socket = self.server.servers[0].sockets[0]
        host, port = socket.getsockname()[:2]
        return f"{self.scheme}://{host}:{port}"

    def start(self) -> ServerThread:
        """Start serving; returns once uvicorn has bound its socket."""
        self.thread.start()
        eventually(lambda: self.server.started, timeout=Timeout.API, what="uvicorn started")
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit (it runs the app's shutdown) and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=Timeout.API)


@dataclass(frozen=True)
class RunningGateway:
    """A gateway under test."""

    url: str
    namespace: str
    settings: GatewaySettings
    admin: KeyAdmin
    verify: ssl.SSLContext | bool = True
    """What clients verify its certificate with under HTTPS."""


@dataclass(frozen=True)
class TenantKey:
    """An API key minted for a tenant namespace."""

    namespace: str
    key: str
    key_id: str

    @property
    def headers(self) -> dict[str, str]:
        """Headers that authenticate as this tenant."""
        return {"Authorization": f"Bearer {self.key}"}


def start_gateway(
    cluster: ClusterInfo,
    namespace: str,
    *,
    verify: ssl.SSLContext | bool = True,
    **overrides: Any,
) -> tuple[ServerThread, RunningGateway]:
    """Start a gateway whose key Secret lives in `namespace`; waits until it is ready.

    Each gateway gets a name of its own (as a gateway pod has), so two gateways on this host,
    of this session or another, never write the same entry of an endpoint's status.gatewayLoad.
    Every request of a test comes from 127.0.0.1: the per-address limit is lifted unless a
    test sets it. `verify` is what clients check the certificate with when the overrides
    name a TLS pair. The gateway is served as `python -m aijob_gateway` serves it.
    """
    defaults: dict[str, Any] = {
        "rate_limit_per_second": 1000.0,
        "rate_limit_burst": 1000,
        "client_rate_limit_per_second": 100_000.0,
        "client_rate_limit_burst": 100_000,
        "instance": f"gateway-test-{uuid.uuid4().hex[:10]}",
        # As the in-process operators of these suites: the hostPath store (tests that
        # confine s3 URIs set storage_mode="s3").
        "storage_mode": "hostPath",
    }
    settings = GatewaySettings(
        namespace=namespace,
        kubeconfig=str(overrides.pop("kubeconfig", cluster.kubeconfig)),
        access_log=False,
        **{**defaults, **overrides},
    )
    app = create_app(settings, configure_logs=False)
    config = server_config(settings, app, host="127.0.0.1", port=0, lifespan="on")
    server = ServerThread(app, config).start()
    admin = KeyAdmin(
        Client(config=_kubeconfig(cluster), field_manager="aijob-tests"),
        namespace,
        settings.api_keys_secret,
    )

    def ready() -> bool:
        return httpx.get(f"{server.url}/readyz", verify=verify).status_code == 200

    eventually(ready, timeout=Timeout.API, what="gateway ready")
    return server, RunningGateway(server.url, namespace, settings, admin, verify)


def _kubeconfig(cluster: ClusterInfo) -> Any:
    from lightkube import KubeConfig

    return KubeConfig.from_file(str(cluster.kubeconfig))


def mint_tenant_key(gateway: RunningGateway, namespace: str) -> TenantKey:
    """Mint a real key for `namespace` and wait until the gateway accepts it."""
    minted = gateway.admin.create(namespace, "integration test")
    key = TenantKey(namespace=namespace, key=minted.key, key_id=minted.entry.key_id)

    def accepted() -> bool:
        response = httpx.get(f"{gateway.url}/v1/jobs", headers=key.headers, verify=gateway.verify)
        return response.status_code == 200

    eventually(accepted, timeout=Timeout.API, what="the new API key is accepted")
    return key


def patch_status(kube: Client, namespace: str, name: str, status: dict[str, Any]) -> None:
    """Write an AIJob's status as the operator and the worker would (status subresource)."""
    kube.patch(
        AIJobResource.Status,
        name,
        {"status": status},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )


def get_aijob(kube: Client, namespace: str, name: str) -> dict[str, Any]:
    """An AIJob as the API server has it."""
    return dict(kube.get(AIJobResource, name, namespace=namespace))


def list_aijobs(kube: Client, namespace: str) -> list[dict[str, Any]]:
    """Every AIJob of a namespace, from the API server."""
    return [dict(obj) for obj in kube.list(AIJobResource, namespace=namespace)]


# Fixtures (imported by the conftest of each suite that needs a gateway).


@pytest.fixture(scope="session")
def gateway(cluster: ClusterInfo, kube: Client, aijob_crd: str) -> Iterator[RunningGateway]:
    """One gateway for the session, with its key Secret in a namespace of its own."""
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    server, running = start_gateway(cluster, namespace)
    try:
        yield running
    finally:
        server.stop()
        kube.delete(Namespace, namespace)


@pytest.fixture
def tenant(gateway: RunningGateway, namespace: str) -> TenantKey:
    """A tenant: the test's fresh namespace and a key bound to it."""
    return mint_tenant_key(gateway, namespace)


@pytest.fixture
def other_tenant(gateway: RunningGateway, kube: Client) -> Iterator[TenantKey]:
    """A second tenant with a namespace and key of its own."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"})))
    try:
        yield mint_tenant_key(gateway, name)
    finally:
        kube.delete(Namespace, name)


@pytest.fixture
def api(gateway: RunningGateway, tenant: TenantKey) -> Iterator[httpx.Client]:
    """An HTTP client of the gateway, authenticated as the test's tenant."""
    with httpx.Client(base_url=gateway.url, headers=tenant.headers, timeout=30) as client:
        yield client
