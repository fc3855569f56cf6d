"""A PEP 503 package index of hand-made wheels, served by a thread (no network beyond loopback)."""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def make_wheel(
    directory: Path, name: str, version: str, module: str, requires: Sequence[str] = ()
) -> Path:
    """A pure-Python wheel of one module (`module` is its source), with its dependencies."""
    project = name.replace("-", "_")
    info = f"{project}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {item}\n" for item in requires)
    files = {
        f"{project}.py": module.encode(),
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: aijob-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = directory / f"{project}-{version}-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    wheel.write_bytes(buffer.getvalue())
    return wheel


def write_index(root: Path, wheels: dict[str, list[Path]]) -> Path:
    """A simple index below `root/simple` linking the wheels of each project name."""
    simple = root / "simple"
    simple.mkdir(parents=True, exist_ok=True)
    links = []
    for name, files in wheels.items():
        page = simple / name
        page.mkdir(parents=True, exist_ok=True)
        anchors = "".join(
            f'<a href="../../files/{wheel.name}#sha256='
            f'{hashlib.sha256(wheel.read_bytes()).hexdigest()}">{wheel.name}</a>\n'
            for wheel in files
        )
        (page / "index.html").write_text(f"<html><body>\n{anchors}</body></html>\n")
        links.append(f'<a href="{name}/">{name}</a>')
    (simple / "index.html").write_text("<html><body>" + "".join(links) + "</body></html>\n")
    return simple


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """No access log on stderr."""


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve `root` over HTTP on loopback; yields the index URL (`.../simple`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
