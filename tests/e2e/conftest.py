"""The chart installed for real: operator and gateway pods on the real node, one session.

The `release` fixture runs `helm upgrade --install --wait` with helm/aijob/values-local.yaml
into a namespace of its own, with the operator watching one tenant namespace, and
uninstalls both at the end. `api` talks to the gateway Service through
`kubectl port-forward` (the real kubelet streams it) with an API key minted by the
gateway image's own `python -m aijob_gateway.keys`. The suite skips, saying why, on a
cluster without a Ready real node or without the images `make images` imports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lightkube import ApiError, Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.helm import CHART, LOCAL_VALUES, helm_binary, run_helm
from tests.support.kubectl import kubectl, kubectl_binary
from tests.support.real_node import has_image, ready_real_nodes

RELEASE = "aijob-e2e"
SYSTEM_NAMESPACE = "aijob-e2e"
TENANT_NAMESPACE = "aijob-e2e-jobs"
ARTIFACTS_DIR = Path("/var/lib/aijob/artifacts")
REQUIRED_IMAGES = ("aijob/operator:dev", "aijob/gateway:dev", "aijob/worker-sklearn:0.1.0")


@dataclass(frozen=True)
class Release:
    """The installed chart: where its pods run and which namespace its operator watches."""

    name: str
    namespace: str
    tenant: str

    @property
    def operator_service_account(self) -> str:
        """The operator's ServiceAccount (named by the chart)."""
        return f"{self.name}-operator"


def helm(*args: str, timeout: float = 360) -> subprocess.CompletedProcess[str]:
    """Run helm against the session's cluster; fails with helm's own message."""
    result = run_helm(*args, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result


def _skip_reason(kube: Client) -> str | None:
    """Why this cluster cannot run the suite, or None."""
    if helm_binary() is None:
        return "helm is not built: run make binaries"
    nodes = ready_real_nodes(kube)
    if not nodes:
        return "no Ready node labelled aijob.dev/real-node (make node-up)"
    missing = [image for image in REQUIRED_IMAGES if not has_image(nodes[0], image)]
    if missing:
        return f"images not imported into the real node: {', '.join(missing)} (make images)"
    return None


def _recreate_namespace(kube: Client, name: str) -> None:
    try:
        kube.delete(Namespace, name)
    except ApiError as error:
        if error.status.code != 404:
            raise

    def gone() -> bool:
        try:
            kube.get(Namespace, name)
        except ApiError as error:
            return error.status.code == 404
        return False

    eventually(gone, timeout=Timeout.REAL_POD, what=f"namespace {name} gone")
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"})))


@pytest.fixture(scope="session")
def release(cluster: ClusterInfo, kube: Client) -> Iterator[Release]:
    """The chart installed with the local values; uninstalled afterwards."""
    reason = _skip_reason(kube)
    if reason:
        pytest.skip(reason)
    # Workers run as a non-root user and keep models on the node (hostPath): a sticky,
    # world-writable directory, as hack/demo.sh makes it. The node is this machine.
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    ARTIFACTS_DIR.chmod(0o1777)
    shutil.rmtree(ARTIFACTS_DIR / TENANT_NAMESPACE, ignore_errors=True)
    _recreate_namespace(kube, TENANT_NAMESPACE)
    helm(
        "upgrade", "--install", RELEASE, str(CHART),
        "--namespace", SYSTEM_NAMESPACE, "--create-namespace",
        "-f", str(LOCAL_VALUES),
        "--set", f"operator.watchNamespaces={{{TENANT_NAMESPACE}}}",
        "--wait", "--timeout", "5m",
    )  # fmt: skip
    try:
        yield Release(name=RELEASE, namespace=SYSTEM_NAMESPACE, tenant=TENANT_NAMESPACE)
    finally:
        # The operator removes its finalizers: delete the jobs while it still runs.
        kubectl(
            "-n", TENANT_NAMESPACE, "delete", "aijobs", "--all", "--timeout=120s",
            check=False, timeout=150,
        )  # fmt: skip
        helm("uninstall", RELEASE, "--namespace", SYSTEM_NAMESPACE, "--wait")
        kube.delete(Namespace, TENANT_NAMESPACE)
        kube.delete(Namespace, SYSTEM_NAMESPACE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def gateway_url(release: Release) -> Iterator[str]:
    """The gateway Service, forwarded to a local port by kubectl port-forward."""
    port = _free_port()
    forward = subprocess.Popen(
        [
            kubectl_binary(), "-n", release.namespace, "port-forward",
            f"svc/{release.name}-gateway", f"{port}:80",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy(),
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
        forward.terminate()
        forward.wait(timeout=10)


@pytest.fixture(scope="session")
def api_key(release: Release) -> str:
    """A key for the tenant namespace, minted inside the gateway pod."""
    result = kubectl(
        "-n", release.namespace, "exec", f"deploy/{release.name}-gateway", "--",
        "python", "-m", "aijob_gateway.keys", "create", "--tenant", release.tenant,
    )  # fmt: skip
    key = result.stdout.splitlines()[0].strip()
    assert key.startswith("aij_"), f"no key printed: {result.stdout!r} {result.stderr!r}"
    return key


@pytest.fixture(scope="session")
def api(gateway_url: str, api_key: str) -> Iterator[httpx.Client]:
    """An HTTP client for the gateway, authenticated as the tenant."""
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=gateway_url, headers=headers, timeout=30) as client:

        def accepted() -> bool:
            return client.get("/v1/jobs").status_code == 200

        eventually(accepted, timeout=Timeout.API, what="the new key is accepted")
        yield client
