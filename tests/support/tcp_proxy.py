"""A TCP forwarder on loopback that a test can cut and restore: a real network failure
between a client and the real API server (TLS passes through it untouched).

`cut()` resets every open connection and refuses new ones (accepted, then closed at
once), as a partitioned network or a dead API server would look to the client;
`restore()` forwards again. Used to break the gateway's watches for real.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import yaml

CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `upstream` (host, port) until closed."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True, name="tcp-proxy")
        self._thread.start()

    def cut(self) -> None:
        """Reset every open connection and refuse new ones."""
        with self._lock:
            self._cut = True
            sockets, self._open = self._open, set()
        for sock in sockets:
            _reset(sock)

    def restore(self) -> None:
        """Forward new connections again."""
        with self._lock:
            self._cut = False

    def close(self) -> None:
        """Stop listening and reset everything."""
        self._closed = True
        self.cut()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut
            if refused:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                refused = self._cut
                if not refused:
                    self._open.update((client, upstream))
            if refused:  # cut while connecting
                _reset(client)
                _reset(upstream)
                continue
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with self._lock:
                    self._open.discard(sock)
                _reset(sock)


def _reset(sock: socket.socket) -> None:
    # shutdown() first: it wakes the pump thread blocked in recv() on this socket (close()
    # alone would wait for that call to return before the connection really goes).
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        # Linger on, for 0 s: close() sends a reset, as a dead peer's kernel would.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


@contextmanager
def proxied_kubeconfig(kubeconfig: Path, directory: Path) -> Iterator[tuple[Path, TcpProxy]]:
    """A copy of `kubeconfig` whose current cluster is reached through a `TcpProxy`."""
    config = yaml.safe_load(kubeconfig.read_text())
    context_name = config["current-context"]
    (context,) = [c["context"] for c in config["contexts"] if c["name"] == context_name]
    (cluster,) = [c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"]]
    server = urlsplit(cluster["server"])
    assert server.hostname is not None
    assert server.port is not None
    proxy = TcpProxy((server.hostname, server.port))
    cluster["server"] = f"{server.scheme}://{server.hostname}:{proxy.port}"
    path = directory / "kubeconfig-proxied"
    path.write_text(yaml.safe_dump(config))
    try:
        yield path, proxy
    finally:
        proxy.close()
