"""Helpers of the worker integration tests: framework environments, worker processes, a proxy.

A worker runs here as a process of its framework image's own virtual
environment (`worker-images/<framework>/.venv`), with the environment the
operator would give its pod (the spec as a file, as the pod's downwardAPI volume
holds it) and the session's kubeconfig, so it reports into a real AIJob through
the real API server.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import yaml
from aijob_api import contract
from aijob_api.constants import API_VERSION, KIND
from aijob_api.delivery import spec_document
from aijob_api.models import AIJob, AIJobSpec
from aijob_kube.resources import AIJobResource
from lightkube import Client

REPO_ROOT = Path(__file__).resolve().parents[3]
WORKER_IMAGES = REPO_ROOT / "worker-images"

_synced: set[str] = set()
_sync_lock = threading.Lock()


def _uv() -> str:
    """The uv binary: the one running this session (`uv run` sets UV), else uv on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is not on PATH and UV is unset: run the tests with `make test`")
    return found


def framework_python(framework: str) -> Path:
    """The Python of a framework image's environment, synced from its lock on first use."""
    with _sync_lock:
        if framework not in _synced:
            subprocess.run(
                [_uv(), "sync", "--project", f"worker-images/{framework}", "--frozen", "--quiet"],
                cwd=REPO_ROOT,
                check=True,
                env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
            )
            _synced.add(framework)
    return WORKER_IMAGES / framework / ".venv" / "bin" / "python"


def create_aijob(kube: Client, namespace: str, name: str, spec: dict[str, Any]) -> AIJob:
    """Create an AIJob through the API server and return it as stored (with its UID)."""
    body = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    created = kube.create(AIJobResource.from_dict(body))
    return AIJob.model_validate(dict(created))


def read_aijob(kube: Client, namespace: str, name: str) -> AIJob:
    """The AIJob as the API server has it now."""
    return AIJob.model_validate(dict(kube.get(AIJobResource, name, namespace=namespace)))


def write_spec_file(job: AIJob, workdir: Path) -> Path:
    """The spec file the worker pod's downwardAPI volume would hold, written into `workdir`."""
    path = workdir / f"{job.metadata.name}.{contract.SPEC_FILE_NAME}"
    wire = job.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    path.write_text(spec_document(wire), encoding="utf-8")
    return path


def worker_env(job: AIJob, workdir: Path, kubeconfig: Path, **extra: str) -> dict[str, str]:
    """The contract the operator sets on a worker pod, for a process on this machine."""
    spec: AIJobSpec = job.spec
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "KUBECONFIG": str(kubeconfig),
        "AIJOB_NAME": job.metadata.name or "",
        "AIJOB_NAMESPACE": job.metadata.namespace or "",
        "AIJOB_UID": job.metadata.uid or "",
        "AIJOB_POD_NAME": f"{job.metadata.name}-local",
        "AIJOB_SPEC_FILE": str(write_spec_file(job, workdir)),
        "AIJOB_FRAMEWORK": spec.resolved_framework.value,
        "AIJOB_ARTIFACT_URI": f"file://{workdir}/artifacts/{job.metadata.name}",
        "AIJOB_PROGRESS_INTERVAL_SECONDS": "1",
        "AIJOB_TERMINATION_MESSAGE_PATH": str(workdir / f"{job.metadata.name}.termination-log"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "OMP_NUM_THREADS": "1",
    }
    env.update(extra)
    return env


class WorkerProcess:
    """`python -m aijob_worker` of a framework environment, its stderr kept in a file."""

    def __init__(self, framework: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._stream = log.open("w")
        self.process = subprocess.Popen(
            [str(framework_python(framework)), "-m", "aijob_worker"],
            env=env,
            stdout=self._stream,
            stderr=subprocess.STDOUT,
            cwd=env["TMPDIR"],
        )

    def wait(self, timeout: float) -> int:
        """Wait for the exit code."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._stream.close()

    def running(self) -> bool:
        """Whether the process has not exited yet."""
        return self.process.poll() is None

    def output(self) -> str:
        """Everything the worker printed so far."""
        return self.log.read_text()

    def events(self) -> list[dict[str, Any]]:
        """The worker's JSON log lines so far."""
        events = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                with suppress(json.JSONDecodeError):
                    events.append(json.loads(line))
        return events

    def epochs(self) -> list[int]:
        """The epochs this process finished, in order."""
        return [event["epoch"] for event in self.events() if event.get("event") == "epoch_end"]

    def kill(self) -> None:
        """End the process if it still runs (cleanup)."""
        if self.running():
            self.process.kill()
            self.process.wait(timeout=30)
        self._stream.close()


@contextmanager
def worker(framework: str, env: dict[str, str], log: Path) -> Iterator[WorkerProcess]:
    """A worker process, killed on exit if it still runs."""
    process = WorkerProcess(framework, env, log)
    try:
        yield process
    finally:
        process.kill()


class TcpProxy:
    """A loopback TCP forwarder that can be cut and restored, to take the API server 'down'."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = 0

    def start(self) -> None:
        """Listen (on the same port as before, after a stop) and forward."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pipe(left: socket.socket, right: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(left, selectors.EVENT_READ, right)
        selector.register(right, selectors.EVENT_READ, left)
        try:
            while True:
                for key, _ in selector.select(timeout=1):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for end in (left, right):
                with suppress(OSError):
                    end.close()


def kubeconfig_through(kubeconfig: Path, port: int, target: Path) -> Path:
    """A copy of the kubeconfig whose clusters are reached through 127.0.0.1:`port`."""
    config = yaml.safe_load(kubeconfig.read_text())
    for cluster in config.get("clusters", []):
        server = cluster["cluster"]["server"]
        scheme = server.split("://", 1)[0]
        cluster["cluster"]["server"] = f"{scheme}://127.0.0.1:{port}"
    target.write_text(yaml.safe_dump(config))
    return target


def upstream_of(kubeconfig: Path) -> tuple[str, int]:
    """Host and port of the kubeconfig's (first) API server."""
    config = yaml.safe_load(kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    host_port = server.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    return host.strip("[]"), int(port or 443)


class WorkerEndedError(RuntimeError):
    """The worker process ended while a test still waited for it to report (not retried)."""
