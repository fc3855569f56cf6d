"""A tenant's S3 store as the gateway reads it: listed, streamed and signed with the tenant's
own credentials (never an admin's), whose policy reaches that tenant's bucket only.

The S3 client (MinIO's, over one shared urllib3 pool) is synchronous: listings and the
opening of an object run in a worker thread; an object's body is handed on as an iterator
of chunks (Starlette reads a synchronous iterator in its thread pool), never read whole.
S3's answers become the gateway's domain errors: no such key 404, a refused credential
502, a store that cannot be reached 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from minio import Minio
from minio.error import MinioException, S3Error
from urllib3 import BaseHTTPResponse, PoolManager, Retry, Timeout
from urllib3.exceptions import HTTPError

from aijob_gateway.errors import GatewayError, NotFoundError, UnavailableError, UpstreamError

AWS_ENDPOINT: Final = "https://s3.amazonaws.com"
"""The S3 API when no endpoint is configured (AWS itself)."""
CHUNK_BYTES: Final = 64 * 1024
"""Bytes read from the store per chunk of a streamed object."""
_MISSING: Final = frozenset({"NoSuchKey", "NoSuchBucket", "NoSuchObject"})


@dataclass(frozen=True)
class S3Credentials:
    """A tenant's access key pair."""

    access_key: str
    secret_key: str


@dataclass(frozen=True)
class StoredObject:
    """One object of a listing."""

    key: str
    size: int
    last_modified: datetime | None
    etag: str | None


@dataclass
class OpenedObject:
    """An object whose body is ready to be read: its headers, then its chunks."""

    size: int | None
    etag: str | None
    content_type: str | None
    response: BaseHTTPResponse

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives, in chunks of at most `CHUNK_BYTES`; the connection is
        given back when the iterator ends or is closed."""
        try:
            yield from self.response.stream(CHUNK_BYTES)
        finally:
            self.close()

    def close(self) -> None:
        """Give the connection back (the body is not read further)."""
        self.response.close()
        self.response.release_conn()


class ObjectReader:
    """Reads tenants' buckets through one S3 endpoint, one client per call's credentials."""

    def __init__(self, endpoint: str, region: str, presign_endpoint: str = "") -> None:
        self._endpoint = _netloc(endpoint)
        self._presign_endpoint = _netloc(presign_endpoint or endpoint)
        self._region = region or None
        self._http = PoolManager(
            num_pools=4,
            maxsize=32,
            timeout=Timeout(connect=5, read=30),
            retries=Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )

    def close(self) -> None:
        """Close the pooled connections to the store."""
        self._http.clear()

    def _client(self, credentials: S3Credentials, *, presign: bool = False) -> Minio:
        host, secure = self._presign_endpoint if presign else self._endpoint
        return Minio(
            host,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            secure=secure,
            region=self._region,
            http_client=self._http,
        )

    async def list(
        self, credentials: S3Credentials, bucket: str, prefix: str, limit: int
    ) -> tuple[list[StoredObject], bool]:
        """Up to `limit` objects below `prefix` (by key), and whether more were left out."""

        def page() -> tuple[list[StoredObject], bool]:
            found: list[StoredObject] = []
            client = self._client(credentials)
            for item in client.list_objects(bucket, prefix=prefix, recursive=True):
                if item.is_dir or not item.object_name:
                    continue
                if len(found) == limit:
                    return found, True
                found.append(
                    StoredObject(
                        key=item.object_name,
                        size=item.size or 0,
                        last_modified=item.last_modified,
                        etag=item.etag,
                    )
                )
            return found, False

        with store_errors(f"list s3://{bucket}/{prefix}"):
            return await asyncio.to_thread(page)

    async def open(self, credentials: S3Credentials, bucket: str, key: str) -> OpenedObject:
        """The object `key`, its headers read and its body not yet (404 when it is absent)."""

        def get() -> OpenedObject:
            response = self._client(credentials).get_object(bucket, key)
            length = response.headers.get("Content-Length")
            return OpenedObject(
                size=int(length) if length is not None and length.isdigit() else None,
                etag=(response.headers.get("ETag") or "").strip('"') or None,
                content_type=response.headers.get("Content-Type"),
                response=response,
            )

        with store_errors(f"read s3://{bucket}/{key}"):
            return await asyncio.to_thread(get)

    async def exists(self, credentials: S3Credentials, bucket: str, key: str) -> bool:
        """Whether the object `key` is there (a HEAD request)."""
        try:
            with store_errors(f"stat s3://{bucket}/{key}"):
                await asyncio.to_thread(self._client(credentials).stat_object, bucket, key)
        except NotFoundError:
            return False
        return True

    def presign(self, credentials: S3Credentials, bucket: str, key: str, seconds: int) -> str:
        """A URL that reads the object for `seconds`, signed with the tenant's credentials
        (computed here, no request: the region is configured)."""
        with store_errors(f"sign s3://{bucket}/{key}"):
            return self._client(credentials, presign=True).presigned_get_object(
                bucket, key, expires=timedelta(seconds=seconds)
            )


@contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Turns the S3 client's failures inside the block into the gateway's errors."""
    try:
        yield
    except GatewayError:
        raise
    except S3Error as error:
        if error.code in _MISSING:
            raise NotFoundError(f"{what}: no such object") from error
        raise UpstreamError(
            f"{what}: the object store refused the tenant's credentials or the request "
            f"({error.code}: {error.message})"
        ) from error
    except (HTTPError, OSError, MinioException) as error:
        raise UnavailableError(f"{what}: the object store cannot be reached ({error})") from error


def _netloc(endpoint: str) -> tuple[str, bool]:
    """(host[:port], https?) of an S3 endpoint URL; AWS for an empty one."""
    parsed = urlsplit(endpoint or AWS_ENDPOINT)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{endpoint!r} is not an http(s) URL of an S3 API")
    return parsed.netloc, parsed.scheme == "https"
