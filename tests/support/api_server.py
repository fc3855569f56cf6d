"""Stop the local cluster's kube-apiserver and start it again with the same flags (fault tests).

hack/cluster-up.sh has `kwokctl --runtime binary` run the API server as a plain process:
its pid in `$KWOK_WORKDIR/clusters/<name>/pids/kube-apiserver.pid` (default
`~/.kwok/clusters/aijob`), its output appended to `logs/kube-apiserver.log`. Nothing
supervises it, so a stopped API server stays stopped until started again.
`ApiServer.stopped()` reads the running process's command line, environment and working
directory from /proc (tests/support/daemons.py), stops it (SIGTERM, as kwokctl does;
SIGKILL when it lingers 10 s), and on leaving the block, whatever happened inside it,
starts exactly that command line again in its own session (it outlives the test process,
as the original did), writes the new pid where kwokctl keeps it and waits until `/readyz`
answers `ok`.

kube-controller-manager and kube-scheduler run with leader election: an API server gone
for longer than their renew deadline (10 s) makes them exit ("leaderelection lost"), as
they do in any cluster, where the kubelet restarts their static pods. kwokctl supervises
nothing, so `stopped()` plays the kubelet's part: it records their command lines too,
and once the API server is ready starts again, with the same flags, any that exited
(`restarted` names them).

Stopping the API server stops it for everyone on the cluster: hold the exclusive lock
(`flock -x /tmp/aijob-cluster.lock flock /tmp/aijob-e2e.lock ...`) for the whole run.
Only the project's own local cluster can be stopped this way; a test skips elsewhere.
"""

from __future__ import annotations

import os
import ssl
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

from tests.support import daemons
from tests.support.daemons import Daemon
from tests.support.eventually import Timeout, eventually

KWOK_HOME: Final = Path(os.environ.get("KWOK_WORKDIR", Path.home() / ".kwok"))
CLUSTER_NAME: Final = os.environ.get("AIJOB_CLUSTER_NAME", "aijob")
PORT: Final = int(os.environ.get("AIJOB_APISERVER_PORT", "32443"))
STOP_GRACE_SECONDS: Final = 10.0
"""How long a stopped API server may take to exit before it is killed (measured here:
after SIGTERM it stopped serving at once but its process lingered over a minute)."""
SUPERVISED: Final = ("kube-controller-manager", "kube-scheduler")
"""The components that exit when they lose their lease during an outage (started again)."""


class ApiServer:
    """The local cluster's kube-apiserver process (and its supervised neighbours)."""

    def __init__(self, cluster_dir: Path | None = None, port: int = PORT) -> None:
        self.cluster_dir = cluster_dir or KWOK_HOME / "clusters" / CLUSTER_NAME
        self.port = port
        self.ready_at: float | None = None
        """`time.monotonic()` when /readyz first answered `ok` after the last start."""
        self.stopped_at: float | None = None
        """`time.monotonic()` when the API server was last told to stop (it stops serving at
        once; its process may linger, see STOP_GRACE_SECONDS)."""
        self.restarted: list[str] = []
        """The supervised components that had exited and were started again."""

    def available(self) -> bool:
        """Whether this machine runs the local cluster's API server as a process we can read."""
        try:
            self.current("kube-apiserver")
        except (OSError, ValueError):
            return False
        return True

    def current(self, name: str) -> Daemon:
        """A running component, as kwokctl started it."""
        return daemons.read(
            name,
            self.cluster_dir / "pids" / f"{name}.pid",
            self.cluster_dir / "logs" / f"{name}.log",
        )

    def ready(self) -> bool:
        """Whether /readyz answers `ok` (anonymous, as the cluster allows; its CA verified)."""
        context = ssl.create_default_context(cafile=str(self.cluster_dir / "pki" / "ca.crt"))
        context.check_hostname = False
        url = f"https://127.0.0.1:{self.port}/readyz"
        with suppress(OSError), urllib.request.urlopen(url, timeout=2, context=context) as reply:
            return bool(reply.read().strip() == b"ok")
        return False

    @contextmanager
    def stopped(self) -> Iterator[Daemon]:
        """The API server stopped for the block; started again (same flags) however it ends,
        then the supervised components that exited meanwhile, and ready again."""
        process = self.current("kube-apiserver")
        neighbours = [self.current(name) for name in SUPERVISED]
        try:
            self.stopped_at = time.monotonic()
            daemons.stop(process, STOP_GRACE_SECONDS)
            yield process
        finally:
            if daemons.running(process):
                daemons.stop(process, 0)
            daemons.start(process)
            eventually(self.ready, timeout=Timeout.PROCESS, interval=0.1, what="API ready")
            self.ready_at = time.monotonic()
            self.restarted = []
            for neighbour in neighbours:
                if not daemons.running(neighbour):
                    daemons.start(neighbour)
                    self.restarted.append(neighbour.name)
