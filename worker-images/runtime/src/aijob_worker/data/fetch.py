"""Fetch a data file named by URI into a local temporary directory."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from aijob_worker.errors import BadInputError
from aijob_worker.storage import storage_for


def fetch_to(uri: str, directory: Path, *, field: str) -> Path:
    """Copy the file at `uri` into `directory`; an unreadable URI is bad input on `field`."""
    name = PurePosixPath(urlparse(uri).path).name or "data"
    local = directory / name
    try:
        return storage_for(uri).get_file(uri, local)
    except (OSError, ValueError) as error:
        raise BadInputError(field, f"cannot read {uri}: {error}") from error
