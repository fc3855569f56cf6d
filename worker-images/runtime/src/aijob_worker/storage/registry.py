"""Pick the storage backend from a URI's scheme."""

from __future__ import annotations

from aijob_worker.storage.base import Storage
from aijob_worker.storage.local import LocalStorage


def storage_for(uri: str) -> Storage:
    """`s3://` goes to S3 (boto3), `file://` and absolute paths to the local filesystem."""
    if uri.startswith("s3://"):
        from aijob_worker.storage.s3 import S3Storage

        return S3Storage()
    if uri.startswith(("file://", "/")):
        return LocalStorage()
    raise ValueError(f"{uri}: unsupported storage URI (use file:///path or s3://bucket/key)")
