"""The storage interface and what every backend shares (checksums, URI joining)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    """One object written to storage."""

    uri: str
    sha256: str
    size_bytes: int
    relative_path: str = ""
    """Its path inside the directory it was uploaded with (empty for a single file)."""


class Storage(Protocol):
    """A place to put and get files and directory trees, addressed by URI."""

    def put_file(self, local: Path, uri: str) -> StoredObject:
        """Store one local file at `uri`."""

    def get_file(self, uri: str, local: Path) -> Path:
        """Fetch `uri` into the local file `local`."""

    def put_tree(self, local_dir: Path, uri: str) -> list[StoredObject]:
        """Store every file under `local_dir` below the prefix `uri`."""

    def get_tree(self, uri: str, local_dir: Path) -> Path:
        """Fetch every object below the prefix `uri` into `local_dir`."""

    def exists(self, uri: str) -> bool:
        """Whether an object (or a directory prefix) exists at `uri`."""

    def list_children(self, uri: str) -> list[str]:
        """Names of the directories (prefixes) right below `uri`, sorted; none when absent."""

    def delete_tree(self, uri: str) -> None:
        """Delete every object below the prefix `uri` (nothing there is not an error)."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def join_uri(base: str, *parts: str) -> str:
    """Join path parts onto a URI with exactly one slash between them."""
    uri = base.rstrip("/")
    for part in parts:
        stripped = part.strip("/")
        if stripped:
            uri = f"{uri}/{stripped}"
    return uri


def relative_files(local_dir: Path) -> list[Path]:
    """Files under a directory, as sorted relative paths."""
    return sorted(path.relative_to(local_dir) for path in local_dir.rglob("*") if path.is_file())
