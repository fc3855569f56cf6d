"""A real model server on loopback for the gateway's inference tests, and pods that point at it.

KWOK pods run no process, so the tests that dispatch inference run the real worker
server (`aijob-worker serve` from the scikit-learn image's environment, on a model
trained here by the same image's code) as a local process, and create Pod objects
the gateway discovers as it discovers an endpoint's replicas: labelled
`aijob.dev/endpoint=NAME`, their container port named `http` set to the server's port,
and their status written as a kubelet would (Running, Ready, podIP 127.0.0.1). Such a
pod names a scheduler that does not exist, so neither kube-scheduler nor KWOK ever
touches it, and the API server deletes it at once when asked (it has no node). The
gateway's whole path is real: the watch, the dispatcher, HTTP to a real model server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import pytest
from aijob_api.constants import LABEL_ENDPOINT_NAME
from lightkube import Client
from lightkube.models.core_v1 import Container, ContainerPort, PodSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Pod
from lightkube.types import PatchType

from tests.support.eventually import Timeout, eventually
from tests.support.prerequisites import REPO_ROOT

SKLEARN_PROJECT = REPO_ROOT / "worker-images" / "sklearn"
UNSCHEDULED = "aijob-tests-no-scheduler"
"""A scheduler name nobody serves: the test pods stay on no node, their status ours to write."""
SETOSA = [5.1, 3.5, 1.4, 0.2]
VERSICOLOR = [5.9, 2.8, 4.3, 1.3]
VIRGINICA = [6.9, 3.1, 5.4, 2.1]

_TRAIN = """
import json, sys
from pathlib import Path
from aijob_worker.offline import run_offline
spec = {"task": "training", "dataset": {"name": "iris"},
        "model": {"type": "random_forest", "hyperparameters": {"nEstimators": 20, "seed": 1}}}
code, status = run_offline(spec, Path(sys.argv[1]))
print(json.dumps({"code": code, "modelUri": (status.get("results") or {}).get("modelUri")}))
"""


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def uv() -> str:
    """The uv executable (on PATH, or where its installer puts it)."""
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    assert Path(found).exists(), "uv is needed to run the scikit-learn image's environment"
    return found


def sklearn_command(*arguments: str) -> list[str]:
    """A command run in the scikit-learn image's locked environment."""
    return [uv(), "run", "--frozen", "--quiet", "--project", str(SKLEARN_PROJECT), *arguments]


def train_iris_model(workdir: Path) -> str:
    """Train a random forest on iris with the image's code; its model URI (file://)."""
    completed = subprocess.run(
        sklearn_command("python", "-c", _TRAIN, str(workdir)),
        capture_output=True,
        text=True,
        timeout=Timeout.PROCESS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, completed.stderr
    assert result["modelUri"], completed.stdout
    model_uri: str = result["modelUri"]
    return model_uri


class LocalModelServer:
    """`aijob-worker serve` on a loopback port, with failure injection on."""

    def __init__(self, name: str, model_uri: str, port: int | None = None) -> None:
        self.name = name
        self.port = port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = sklearn_command(
            "aijob-worker",
            "serve",
            "--name",
            name,
            "--model-uri",
            model_uri,
            "--model-type",
            "random_forest",
            "--framework",
            "sklearn",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-batch-wait-ms",
            "2",
        )
        self.process = subprocess.Popen(
            command,
            env={**os.environ, "AIJOB_SERVE_FAULT_INJECTION": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def __enter__(self) -> Self:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the model server exited: {self.process.communicate()[1]}")
            try:
                return httpx.get(f"{self.url}/v2/health/ready", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        eventually(ready, timeout=Timeout.PROCESS, what="the model server ready")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.communicate(timeout=Timeout.PROCESS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate()

    def inject(self, **rule: Any) -> None:
        """A failure rule for the next requests (`PUT /admin/faults`, docs/serving.md)."""
        response = httpx.put(f"{self.url}/admin/faults", json=rule, timeout=5)
        assert response.status_code == 200, response.text

    def clear_faults(self) -> None:
        """Remove the failure rule, if any (`DELETE /admin/faults`)."""
        response = httpx.delete(f"{self.url}/admin/faults", timeout=5)
        assert response.status_code in (200, 204), response.text

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a Prometheus sample of the server's `/metrics` over the series whose labels
        contain `labels` (e.g. `metric("aijob_serve_requests_total", outcome="ok")`)."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        total = 0.0
        for line in text.splitlines():
            series, _, value = line.rpartition(" ")
            if not series.startswith(name) or series[len(name) : len(name) + 1] not in ("", "{"):
                continue
            if all(f'{key}="{wanted}"' in series for key, wanted in labels.items()):
                total += float(value)
        return total

    def predictions_answered(self) -> int:
        """Requests of the JSON route answered with outputs, since the server started."""
        return int(
            self.metric(
                "aijob_serve_requests_total", route="/v1/models/{name}/predict", outcome="ok"
            )
        )

    def in_flight(self) -> int:
        """Inference requests the server holds now (queued, running or delayed)."""
        return int(self.metric("aijob_serve_in_flight_requests"))

    def predict(self, records: list[Any]) -> dict[str, Any]:
        """The server's own answer, straight from it (no gateway)."""
        response = httpx.post(
            f"{self.url}/v1/models/{self.name}/predict", json={"records": records}, timeout=30
        )
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document


def create_replica(
    kube: Client, namespace: str, endpoint: str, name: str, port: int, *, ready: bool = True
) -> None:
    """A pod of `endpoint` whose address is 127.0.0.1:`port`, Running, Ready or not."""
    kube.create(
        Pod(
            metadata=ObjectMeta(
                name=name, namespace=namespace, labels={LABEL_ENDPOINT_NAME: endpoint}
            ),
            spec=PodSpec(
                schedulerName=UNSCHEDULED,
                containers=[
                    Container(
                        name="model-server",
                        image="aijob-tests/none",
                        ports=[ContainerPort(name="http", containerPort=port)],
                    )
                ],
            ),
        )
    )
    set_replica_ready(kube, namespace, name, ready=ready)


def set_replica_ready(kube: Client, namespace: str, name: str, *, ready: bool) -> None:
    """Write the pod's status as a kubelet would: Running on 127.0.0.1, Ready or not."""
    status = {
        "phase": "Running",
        "podIP": "127.0.0.1",
        "podIPs": [{"ip": "127.0.0.1"}],
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    kube.patch(
        Pod.Status, name, {"status": status}, namespace=namespace, patch_type=PatchType.MERGE
    )


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModelServer]:
    """The iris random forest served by `aijob-worker serve` on loopback (model name iris)."""
    model_uri = train_iris_model(tmp_path_factory.mktemp("train"))
    with LocalModelServer("iris", model_uri) as running:
        yield running


def ready_replica(
    kube: Client, api: httpx.Client, namespace: str, name: str, port: int, endpoint: str = "iris"
) -> None:
    """A ready replica of `endpoint`, once the gateway (`api`) dispatches to it."""
    create_replica(kube, namespace, endpoint, name, port)

    def dispatched_to() -> bool:
        pods = api.get(f"/v1/endpoints/{endpoint}/stats").json()["pods"]
        return any(pod["name"] == name and pod["ready"] for pod in pods)

    eventually(dispatched_to, timeout=Timeout.API, what=f"replica {name} ready in the gateway")
