"""The S3-compatible backend: `s3://bucket/key` URIs through boto3.

The endpoint and credentials come from boto3's usual configuration (for an
S3-compatible store such as MinIO: `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`). boto3 is an optional extra
(`aijob-worker[s3]`); it is imported only when an `s3://` URI is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from aijob_worker.storage.base import StoredObject, join_uri, relative_files, sha256_of

CHECKSUM_METADATA_KEY = "sha256"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """Bucket and key of an `s3://bucket/key` URI."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"{uri}: not an s3://bucket/key URI")
    return parsed.netloc, parsed.path.lstrip("/")


class S3Storage:
    """Stores objects in a bucket; each object carries its SHA-256 as metadata."""

    def __init__(self, client: Any | None = None) -> None:
        if client is None:
            try:
                import boto3
            except ImportError as error:  # pragma: no cover - depends on the image
                raise RuntimeError("s3:// URIs need boto3: install aijob-worker[s3]") from error
            client = boto3.client("s3")
        self._client = client

    def put_file(self, local: Path, uri: str) -> StoredObject:
        """Upload one file with its checksum as object metadata."""
        bucket, key = split_s3_uri(uri)
        checksum = sha256_of(local)
        self._client.upload_file(
            str(local), bucket, key, ExtraArgs={"Metadata": {CHECKSUM_METADATA_KEY: checksum}}
        )
        return StoredObject(uri=uri, sha256=checksum, size_bytes=local.stat().st_size)

    def get_file(self, uri: str, local: Path) -> Path:
        """Download one object and check it against its stored checksum."""
        bucket, key = split_s3_uri(uri)
        local.parent.mkdir(parents=True, exist_ok=True)
        self._client.download_file(bucket, key, str(local))
        head = self._client.head_object(Bucket=bucket, Key=key)
        expected = head.get("Metadata", {}).get(CHECKSUM_METADATA_KEY)
        if expected and expected != sha256_of(local):
            raise OSError(f"{uri}: checksum mismatch after download")
        return local

    def put_tree(self, local_dir: Path, uri: str) -> list[StoredObject]:
        """Upload every file of a directory below the prefix."""
        stored = []
        for relative in relative_files(local_dir):
            item = self.put_file(local_dir / relative, join_uri(uri, relative.as_posix()))
            stored.append(StoredObject(item.uri, item.sha256, item.size_bytes, relative.as_posix()))
        return stored

    def get_tree(self, uri: str, local_dir: Path) -> Path:
        """Download every object below the prefix."""
        bucket, prefix = split_s3_uri(uri)
        prefix = prefix.rstrip("/") + "/"
        found = False
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix) :]
                if not relative:
                    continue
                found = True
                self.get_file(f"s3://{bucket}/{item['Key']}", local_dir / relative)
        if not found:
            raise FileNotFoundError(f"{uri}: no objects below this prefix")
        return local_dir

    def exists(self, uri: str) -> bool:
        """Whether an object, or any object below the prefix, exists."""
        bucket, key = split_s3_uri(uri)
        listing = self._client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        return bool(listing.get("KeyCount", 0))

    def list_children(self, uri: str) -> list[str]:
        """The common prefixes right below the prefix (S3's "directories")."""
        bucket, prefix = split_s3_uri(uri)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        names: set[str] = set()
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.add(common["Prefix"][len(prefix) :].rstrip("/"))
        return sorted(name for name in names if name)

    def delete_tree(self, uri: str) -> None:
        """Delete every object below the prefix, a page (at most 1,000 keys) per request."""
        bucket, prefix = split_s3_uri(uri)
        prefix = prefix.rstrip("/") + "/"
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self._client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
