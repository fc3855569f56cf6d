"""What the endpoint e2e tests share: examples applied, AIEndpoints and their pods read,
phases awaited, and bursts of concurrent requests with something done in their middle."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from aijob_kube.resources import AIEndpointResource
from lightkube import Client
from lightkube.resources.core_v1 import Pod, Service

from tests.support.eventually import eventually
from tests.support.kubectl import kubectl

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NODE_CGROUPS = (Path("/sys/fs/cgroup/pids/aijob/kubepods"), Path("/sys/fs/cgroup/aijob/kubepods"))
"""The real node's pod cgroups (its kubelet's cgroupRoot /aijob; cgroup v1, else v2); the
node is this machine."""
ENDPOINT_LABEL = "aijob.dev/endpoint"
SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.7, 3.0, 5.2, 2.3]
"""Two iris flowers every forest of examples/train-sklearn.yaml classifies alike."""


def example_name(example: str) -> str:
    """metadata.name of an examples/ file."""
    manifest: dict[str, Any] = yaml.safe_load((EXAMPLES / example).read_text())
    return str(manifest["metadata"]["name"])


def apply_example(namespace: str, example: str) -> str:
    """`kubectl apply -f examples/<example>` into `namespace`, as the docs show; its name."""
    kubectl("-n", namespace, "apply", "-f", str(EXAMPLES / example))
    return example_name(example)


def example_records(example: str) -> list[Any]:
    """spec.input.records of an inference example."""
    manifest: dict[str, Any] = yaml.safe_load((EXAMPLES / example).read_text())
    records: list[Any] = manifest["spec"]["input"]["records"]
    return records


def get_endpoint(kube: Client, namespace: str, name: str) -> dict[str, Any]:
    """An AIEndpoint as the API server has it."""
    return dict(kube.get(AIEndpointResource, name, namespace=namespace))


def wait_for_endpoint(
    kube: Client,
    namespace: str,
    name: str,
    phase: str,
    timeout: float,
    also: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> dict[str, Any]:
    """The AIEndpoint once its phase is `phase` (and `also(endpoint)` holds).

    Waiting for another phase than Failed fails early when the endpoint is Failed.
    """

    def reached() -> dict[str, Any]:
        endpoint = get_endpoint(kube, namespace, name)
        status = endpoint.get("status") or {}
        current = status.get("phase")
        if current == "Failed" and phase != "Failed":
            raise RuntimeError(f"{name} Failed ({status.get('reason')}): {status.get('message')}")
        assert current == phase, f"{name} is {current} ({status.get('reason')}): {status}"
        assert also(endpoint), f"{name} is {phase} but not yet as awaited: {status}"
        return endpoint

    return eventually(reached, timeout=timeout, interval=0.5, what=f"endpoint {name} {phase}")


def endpoint_pods(kube: Client, namespace: str, name: str) -> list[Pod]:
    """The endpoint's pods that are not being deleted."""
    pods = kube.list(Pod, namespace=namespace, labels={ENDPOINT_LABEL: name})
    return [pod for pod in pods if pod.metadata and not pod.metadata.deletionTimestamp]


def pod_name(pod: Pod) -> str:
    """A pod's name."""
    assert pod.metadata is not None
    return str(pod.metadata.name)


def restarts(pods: Sequence[Pod]) -> dict[str, int]:
    """Container restarts by pod name."""
    return {
        pod_name(pod): sum(
            status.restartCount
            for status in ((pod.status.containerStatuses if pod.status else None) or [])
        )
        for pod in pods
    }


def crash_containers(pod: Pod) -> int:
    """SIGKILL every process of the pod's containers, as a crash would; how many were killed.

    Found through the containers' cgroups on the real node, which is this machine.
    """
    statuses = (pod.status.containerStatuses if pod.status else None) or []
    killed = 0
    for status in statuses:
        container_id = (status.containerID or "").rpartition("://")[2]
        if not container_id:
            continue
        for procs in (
            p for root in NODE_CGROUPS for p in root.glob(f"**/{container_id}/cgroup.procs")
        ):
            for pid in procs.read_text().split():
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
    return killed


def service_url(kube: Client, namespace: str, name: str) -> str:
    """`<ClusterIP>:<port>` of the endpoint's Service (the node routes Service IPs)."""
    service = kube.get(Service, name, namespace=namespace)
    assert service.spec is not None
    assert service.spec.ports
    return f"{service.spec.clusterIP}:{service.spec.ports[0].port}"


@dataclass
class Answer:
    """One request's answer: status and body (or the transport error that stood for it)."""

    status: int
    body: dict[str, Any]
    error: str | None = None


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> Answer:
    try:
        response = client.post(path, json=body)
    except httpx.HTTPError as error:  # counted, never lost: the test reports it
        return Answer(status=0, body={}, error=f"{type(error).__name__}: {error}")
    try:
        parsed: dict[str, Any] = response.json()
    except ValueError:
        parsed = {"text": response.text}
    return Answer(status=response.status_code, body=parsed)


def burst(
    client: httpx.Client,
    path: str,
    bodies: Sequence[dict[str, Any]],
    *,
    concurrency: int,
    after: int | None = None,
    action: Callable[[], None] | None = None,
) -> list[Answer]:
    """POST every body to `path`, `concurrency` at a time; the answers in the bodies' order.

    When `action` is given it runs once `after` answers have come back, while the rest of
    the burst is in flight.
    """
    answered = threading.Semaphore(0)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="burst") as pool:
        futures: list[Future[Answer]] = []
        for body in bodies:
            future = pool.submit(_post, client, path, body)
            future.add_done_callback(lambda _: answered.release())
            futures.append(future)
        if action is not None:
            for _ in range(after or 0):
                answered.acquire()
            action()
        return [future.result() for future in futures]


@dataclass
class Flow:
    """Requests sent back to back by a few threads until `stop()`: traffic during a change."""

    client: httpx.Client
    path: str
    body: dict[str, Any]
    threads: int = 2
    pause_seconds: float = 0.02
    """Each thread's pause between requests: steady traffic that leaves CPU to the change."""
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Flow:
        """Start sending."""
        for index in range(self.threads):
            worker = threading.Thread(target=self._send, name=f"flow-{index}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def _send(self) -> None:
        while not self._stop.is_set():
            answer = _post(self.client, self.path, self.body)
            with self._lock:
                self.answers.append(answer)
            self._stop.wait(self.pause_seconds)

    def stop(self) -> list[Answer]:
        """Stop sending, wait for the requests in flight; every answer."""
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
        with self._lock:
            return list(self.answers)
