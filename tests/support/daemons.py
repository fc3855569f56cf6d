"""Processes the local cluster runs from pid files (fault tests stop and start them again).

hack/cluster-up.sh (through `kwokctl --runtime binary`) and hack/node/node-up.sh start
the control plane and the real node's daemons as plain background processes, each with a
pid file and a log, and nothing supervises them. A fault test reads how one was started
(`read`: its command line, environment and working directory from /proc), stops it, and
starts exactly that again (`start`: its own session, so it outlives the test as the
original did; output appended to its log; the new pid written where the scripts keep it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from tests.support.eventually import Timeout, eventually

_started: list[subprocess.Popen[bytes]] = []
"""The processes started here (kept so that no Popen is collected while it runs)."""


@dataclass(frozen=True)
class Daemon:
    """How a daemon was started: enough to start it again identically."""

    name: str
    pid: int
    argv: list[str]
    env: dict[str, str]
    cwd: str
    pid_file: Path
    log_file: Path


def read(name: str, pid_file: Path, log_file: Path, binary: str | None = None) -> Daemon:
    """The running daemon of that pid file (`binary`: how its command line's first word
    ends, the name by default); ValueError when the pid file names something else."""
    pid = int(pid_file.read_text().strip())
    proc = Path("/proc") / str(pid)
    argv = proc.joinpath("cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    if not argv or not argv[0].endswith((binary or name).encode()) or zombie(pid):
        raise ValueError(f"pid {pid} is not a running {name}: {argv[:1]!r}")
    env_items = proc.joinpath("environ").read_bytes().rstrip(b"\0").split(b"\0")
    return Daemon(
        name=name,
        pid=pid,
        argv=[arg.decode() for arg in argv],
        env=dict(item.decode().split("=", 1) for item in env_items if b"=" in item),
        cwd=os.readlink(proc / "cwd"),
        pid_file=pid_file,
        log_file=log_file,
    )


def running(daemon: Daemon) -> bool:
    """Whether that process still runs."""
    with suppress(ChildProcessError):
        os.waitpid(daemon.pid, os.WNOHANG)  # reap it if this process started it
    return Path(f"/proc/{daemon.pid}").exists() and not zombie(daemon.pid)


def stop(daemon: Daemon, grace: float) -> None:
    """SIGTERM, SIGKILL after `grace` seconds if it still runs; wait until it is gone."""
    with suppress(ProcessLookupError):
        os.kill(daemon.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while running(daemon) and time.monotonic() < deadline:
        time.sleep(0.1)
    if running(daemon):
        with suppress(ProcessLookupError):
            os.kill(daemon.pid, signal.SIGKILL)
    eventually(
        lambda: not running(daemon),
        timeout=Timeout.PROCESS,
        interval=0.1,
        what=f"{daemon.name} exited",
    )


def start(daemon: Daemon) -> int:
    """Start the same command line again; returns the new pid (also in its pid file)."""
    with daemon.log_file.open("ab") as log:
        child = subprocess.Popen(
            daemon.argv,
            cwd=daemon.cwd,
            env=daemon.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _started.append(child)
    daemon.pid_file.write_text(str(child.pid))
    return child.pid


def zombie(pid: int) -> bool:
    """Whether the process has exited and waits to be reaped."""
    with suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    return False
