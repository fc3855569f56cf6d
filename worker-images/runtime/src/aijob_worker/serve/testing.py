"""Run a model server in tests: in a thread of this process, or as the image's command.

Used by the runtime's and the framework images' tests (and meant for the
gateway's dispatch tests): `ThreadedServer` serves a model with a given runner
registry; `ServeProcess` runs `python -m aijob_worker serve` as the pod would,
so signals and exit codes are real. `wait_until` is the one way they wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx2 as httpx

from aijob_worker.runners import RunnerRegistry
from aijob_worker.serve.config import ServeConfig
from aijob_worker.serve.server import ModelServer

T = TypeVar("T")
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 60.0


def wait_until(
    check: Callable[[], T], *, timeout: float, interval: float = 0.02, what: str = "condition"
) -> T:
    """Call `check` until it returns something truthy (AssertionError counts as not yet)."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except AssertionError as error:
            last = error
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not true after {timeout:g} s: {last or 'still false'}")
        time.sleep(interval)


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def is_ready(base_url: str) -> bool:
    """Whether the server at `base_url` answers its readiness probe with 200."""
    try:
        return httpx.get(f"{base_url}/v2/health/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


class ThreadedServer:
    """A `ModelServer` on a loopback port, in its own thread and event loop."""

    def __init__(
        self,
        config: ServeConfig,
        *,
        registry: RunnerRegistry | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        config = config.model_copy(update={"host": "127.0.0.1", "port": free_port()})
        self.server = ModelServer(config, registry=registry, env=env or {})
        self.base_url = f"http://127.0.0.1:{config.port}"
        self.exit_code: int | None = None
        self._loop = asyncio.new_event_loop()
        self._stop_requested = False
        self._thread = threading.Thread(target=self._run, name="aijob-test-server", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        wait_until(
            lambda: is_ready(self.base_url) or self.exit_code is not None,
            timeout=READY_TIMEOUT_SECONDS,
            what="the model server ready",
        )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def request_stop(self) -> None:
        """Send the server what SIGTERM sends it (once)."""
        if self._stop_requested:
            return
        self._stop_requested = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: the server already ended
            self._loop.call_soon_threadsafe(self.server.request_stop, "test")

    def stop(self) -> int | None:
        """Drain, stop, and return the exit code."""
        self.request_stop()
        self._thread.join(STOP_TIMEOUT_SECONDS)
        return self.exit_code

    def _run(self) -> None:
        try:
            self.exit_code = self._loop.run_until_complete(self.server.serve())
        finally:
            self._loop.close()


class ServeProcess:
    """`python -m aijob_worker serve ARGS` on a free loopback port, as the image runs it."""

    def __init__(
        self,
        arguments: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "aijob_worker", "serve", *arguments]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr = ""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=STOP_TIMEOUT_SECONDS)

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Wait for readiness (fails at once, with stderr, if the process ends)."""

        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited {self.process.returncode}: {self.wait()}")
            return is_ready(self.base_url)

        wait_until(ready, timeout=timeout, what="the model server process ready")

    def terminate(self) -> None:
        """Send SIGTERM."""
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT_SECONDS) -> str:
        """Wait for the process to end; its stderr."""
        _, stderr = self.process.communicate(timeout=timeout)
        self.stderr += stderr or ""
        return self.stderr

    def metrics(self) -> dict[str, float]:
        """The server's metrics as `name{labels}` to value."""
        return parse_metrics(httpx.get(f"{self.base_url}/metrics", timeout=5).text)


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text as a mapping of `name{labels}` to value."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def metric(samples: Mapping[str, float], name: str, **labels: Any) -> float:
    """One sample's value (0 when absent); labels in any order."""
    for key, value in samples.items():
        base, _, rest = key.partition("{")
        if base != name:
            continue
        found = dict(part.split("=", 1) for part in rest.rstrip("}").split(",") if "=" in part)
        if all(found.get(k) == f'"{v}"' for k, v in labels.items()):
            return value
    return 0.0
