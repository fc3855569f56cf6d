"""The body limit on the real gateway process (`python -m aijob_gateway`): an unauthenticated
400 MB body, streamed or announced, is answered 413 before it is parsed or the key checked,
and the process's memory stays bounded; the inference routes keep their larger limit."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.model_server import free_port

MIB = 1024 * 1024
HUGE = 400 * MIB
CHUNK = 64 * 1024
MEMORY_GROWTH_BOUND = 64 * MIB
"""Far below the 400 MB sent, far above what reading 1 MiB and answering costs."""


@dataclass
class GatewayProcess:
    """A gateway run as its image runs it."""

    process: subprocess.Popen[bytes]
    url: str

    def memory(self, field: str) -> int:
        """A /proc/PID/status memory line (VmRSS, VmHWM), in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} for pid {self.process.pid}")

    def reset_peak(self) -> None:
        """Make VmHWM start again from the current RSS (Linux clear_refs, 5)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def gateway_process(
    cluster: ClusterInfo, kube: Client, aijob_crd: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    port = free_port()
    env = {
        **os.environ,
        "AIJOB_GATEWAY_NAMESPACE": namespace,
        "AIJOB_GATEWAY_KUBECONFIG": str(cluster.kubeconfig),
        "AIJOB_GATEWAY_HOST": "127.0.0.1",
        "AIJOB_GATEWAY_PORT": str(port),
        "AIJOB_GATEWAY_ACCESS_LOG": "false",
        "AIJOB_GATEWAY_INSTANCE": f"gateway-test-{uuid.uuid4().hex[:10]}",
    }
    log = (tmp_path_factory.mktemp("gateway") / "gateway.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "aijob_gateway"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    running = GatewayProcess(process, f"http://127.0.0.1:{port}")

    def ready() -> bool:
        assert process.poll() is None, f"the gateway exited; see {log.name}"
        try:
            return httpx.get(f"{running.url}/readyz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        eventually(ready, timeout=Timeout.PROCESS, what="python -m aijob_gateway ready")
        yield running
    finally:
        process.terminate()
        process.wait(timeout=Timeout.PROCESS)
        log.close()
        kube.delete(Namespace, namespace)


class Body:
    """`size` bytes of one repeated chunk, generated as sent (never held in memory)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b"x" * CHUNK
        while self.sent < self.size:
            self.sent += CHUNK
            yield chunk


def assert_too_large(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert limit in detail
    assert "max_body_bytes" in detail


@pytest.mark.parametrize("announced", [False, True], ids=["chunked", "content-length"])
def test_an_unauthenticated_400_mb_body_is_refused_with_memory_bounded(
    gateway_process: GatewayProcess, announced: bool
) -> None:
    gateway_process.reset_peak()
    before = gateway_process.memory("VmRSS")
    body = Body(HUGE)
    headers = {"content-type": "application/json"}
    if announced:
        headers["content-length"] = str(HUGE)
    response = httpx.post(
        f"{gateway_process.url}/v1/jobs", content=iter(body), headers=headers, timeout=60
    )
    assert_too_large(response, "1048576 bytes (1 MiB)")
    assert body.sent < 100 * MIB  # cut off early: the rest was never sent
    growth = gateway_process.memory("VmHWM") - before
    assert growth < MEMORY_GROWTH_BOUND, f"the gateway grew by {growth / MIB:.1f} MiB"
    assert gateway_process.process.poll() is None
    assert httpx.get(f"{gateway_process.url}/healthz").status_code == 200


def test_each_route_has_its_limit_before_the_key_is_checked(
    gateway_process: GatewayProcess,
) -> None:
    two_mib = b'{"records": [' + b"1," * MIB + b"1]}"
    jobs = httpx.post(f"{gateway_process.url}/v1/jobs", content=two_mib)
    assert_too_large(jobs, "1048576 bytes (1 MiB)")
    # The inference routes accept up to 16 MiB: this body passes the limit and the key is
    # then found missing.
    infer = httpx.post(f"{gateway_process.url}/v1/endpoints/iris/infer", content=two_mib)
    assert infer.status_code == 401, infer.text
    over = httpx.post(
        f"{gateway_process.url}/v1/endpoints/iris/infer",
        content=iter(Body(17 * MIB)),
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert over.status_code == 413
    assert "16 MiB" in over.json()["detail"]
    assert "inference_max_body_bytes" in over.json()["detail"]
