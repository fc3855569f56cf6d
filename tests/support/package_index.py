"""A PEP 503 package index of one hand-made wheel, as a ConfigMap's files (for e2e pods).

The worker runtime's suite serves such an index from a thread
(worker-images/runtime/tests/package_index.py); a pod on the real node serves this one with
`python -m http.server` from a worker image, the files mounted from the ConfigMap.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from typing import Any


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def wheel(name: str, version: str, module: str) -> tuple[str, bytes]:
    """A pure-Python wheel of one module (`module`: its source): its file name and bytes."""
    project = name.replace("-", "_")
    info = f"{project}-{version}.dist-info"
    files = {
        f"{project}.py": module.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: aijob-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return f"{project}-{version}-py3-none-any.whl", buffer.getvalue()


def index_config_map(name: str, project: str, filename: str, data: bytes) -> dict[str, Any]:
    """A ConfigMap holding the index of one project (`simple/...`) and its wheel (`files/`),
    with the `items` that lay its keys out as those paths when mounted."""
    digest = hashlib.sha256(data).hexdigest()
    link = f'<a href="../../files/{filename}#sha256={digest}">{filename}</a>'
    page = f"<html><body>{link}</body></html>"
    root = f'<html><body><a href="{project}/">{project}</a></body></html>'
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"root": root, "project": page},
        "binaryData": {"wheel": base64.b64encode(data).decode()},
    }


def index_items(project: str, filename: str) -> list[dict[str, str]]:
    """The ConfigMap volume's items: where each key of `index_config_map` is mounted."""
    return [
        {"key": "root", "path": "simple/index.html"},
        {"key": "project", "path": f"simple/{project}/index.html"},
        {"key": "wheel", "path": f"files/{filename}"},
    ]
