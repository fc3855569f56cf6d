"""Artifact storage chosen by URI scheme: `file://` (a local path or volume) or `s3://`.

`storage_for(uri)` returns the backend; every backend stores files and whole
directories and reports a SHA-256 and size for each object it wrote.
"""

from aijob_worker.storage.base import Storage, StoredObject, join_uri, sha256_of
from aijob_worker.storage.registry import storage_for

__all__ = ["Storage", "StoredObject", "join_uri", "sha256_of", "storage_for"]
