"""The operator as its own process (`python -m aijob_operator`), scoped to one namespace.

For the tests that kill it (SIGKILL, no clean-up), or read its metrics and liveness
endpoints and memory as a deployment would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.operator import OPERATOR_ENV


def free_port() -> int:
    """A TCP port nobody listens on now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OperatorProcess:
    """One `python -m aijob_operator --namespace NS` child process."""

    def __init__(
        self,
        namespace: str,
        log_path: Path,
        *,
        metrics_port: int = 0,
        liveness_port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.namespace = namespace
        self.log_path = log_path
        self.metrics_port = metrics_port
        self.liveness_port = liveness_port
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        """Start the operator; its output goes to the log file."""
        args = [sys.executable, "-m", "aijob_operator", "--namespace", self.namespace]
        if self.liveness_port is not None:
            args.append(f"--liveness=http://127.0.0.1:{self.liveness_port}/healthz")
        env = {
            **os.environ,
            "AIJOB_OPERATOR_METRICS_PORT": str(self.metrics_port),
            "AIJOB_OPERATOR_METRICS_HOST": "127.0.0.1",
            "AIJOB_OPERATOR_LOG_FORMAT": "plain",
            # The in-process operator's store (file:// URIs below the artifact mount), which
            # the tests' simulated training jobs record; s3 mode only when a test asks.
            "AIJOB_OPERATOR_STORAGE_MODE": OPERATOR_ENV["AIJOB_OPERATOR_STORAGE_MODE"],
            **self.extra_env,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        return self

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye, as an OOM kill or a node loss would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM and wait, as Kubernetes stops a pod; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """What it printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
