"""A tenant's own S3 credentials, read from the Secret `aijob-storage` of its namespace.

The gateway holds no S3 credential of its own: to list or stream a job's artifacts it reads
this one Secret of the caller's namespace (RBAC: `get` on Secrets of that one name) at each
request, so a rotated or removed credential takes effect at once.
"""

from __future__ import annotations

import base64
import binascii

from aijob_api.storage import SECRET_ACCESS_KEY, SECRET_SECRET_KEY, STORAGE_SECRET
from aijob_kube.errors import KubeError, NotFoundError, kube_errors
from lightkube import AsyncClient
from lightkube.resources.core_v1 import Secret

from aijob_gateway.errors import ConflictError
from aijob_gateway.kube.errors import as_gateway_error
from aijob_gateway.object_store import S3Credentials


class StorageSecrets:
    """Reads the tenants' storage Secrets."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def credentials(self, namespace: str) -> S3Credentials:
        """The tenant's access key pair; 409 naming the Secret when it is absent or lacks one."""
        try:
            with kube_errors(f"Secret {namespace}/{STORAGE_SECRET}"):
                secret = await self._client.get(Secret, STORAGE_SECRET, namespace=namespace)
        except NotFoundError:
            secret = None
        except KubeError as error:
            raise as_gateway_error(error) from error
        data = (secret.data if secret is not None else None) or {}
        try:
            return S3Credentials(
                base64.b64decode(data[SECRET_ACCESS_KEY]).decode(),
                base64.b64decode(data[SECRET_SECRET_KEY]).decode(),
            )
        except (KeyError, ValueError, binascii.Error):
            raise ConflictError(
                f"namespace {namespace!r} has no object store credentials: its Secret "
                f"{STORAGE_SECRET} with {SECRET_ACCESS_KEY} and {SECRET_SECRET_KEY} is missing "
                "(an admin runs `python -m aijob_operator.tenants add`)"
            ) from None
