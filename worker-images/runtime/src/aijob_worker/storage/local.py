"""The local filesystem backend: `file:///path` URIs, a path on the node or on a volume."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from aijob_worker.storage.base import StoredObject, join_uri, relative_files, sha256_of


def path_of(uri: str) -> Path:
    """The local path of a `file://` URI (a bare absolute path is accepted too)."""
    if uri.startswith("file://"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"{uri}: file URIs must name a local absolute path (file:///path)")
        return Path(unquote(parsed.path))
    if uri.startswith("/"):
        return Path(uri)
    raise ValueError(f"{uri}: not a file:// URI or an absolute path")


class LocalStorage:
    """Stores objects as files; writes go through a temporary file and an atomic rename."""

    def put_file(self, local: Path, uri: str) -> StoredObject:
        """Copy a file to the URI's path and return its checksum."""
        target = path_of(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        if local.resolve() != target.resolve():
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            os.close(handle)
            shutil.copyfile(local, temporary)
            os.replace(temporary, target)
        return StoredObject(uri=uri, sha256=sha256_of(target), size_bytes=target.stat().st_size)

    def get_file(self, uri: str, local: Path) -> Path:
        """Copy the URI's file to a local path (no copy when it is the same file)."""
        source = path_of(uri)
        if not source.is_file():
            raise FileNotFoundError(f"{uri}: no such file")
        local.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() != local.resolve():
            shutil.copyfile(source, local)
        return local

    def put_tree(self, local_dir: Path, uri: str) -> list[StoredObject]:
        """Copy every file of a directory below the URI."""
        stored = []
        for relative in relative_files(local_dir):
            item = self.put_file(local_dir / relative, join_uri(uri, relative.as_posix()))
            stored.append(StoredObject(item.uri, item.sha256, item.size_bytes, relative.as_posix()))
        return stored

    def get_tree(self, uri: str, local_dir: Path) -> Path:
        """Copy the directory at the URI into a local directory."""
        source = path_of(uri)
        if not source.is_dir():
            raise FileNotFoundError(f"{uri}: no such directory")
        for relative in relative_files(source):
            self.get_file(join_uri(uri, relative.as_posix()), local_dir / relative)
        return local_dir

    def exists(self, uri: str) -> bool:
        """Whether a file or directory is at the URI."""
        return path_of(uri).exists()

    def list_children(self, uri: str) -> list[str]:
        """The subdirectories of the URI's directory."""
        directory = path_of(uri)
        if not directory.is_dir():
            return []
        return sorted(child.name for child in directory.iterdir() if child.is_dir())

    def delete_tree(self, uri: str) -> None:
        """Remove the URI's directory (or file) and everything in it."""
        target = path_of(uri)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
