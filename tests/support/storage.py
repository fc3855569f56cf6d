"""The local cluster's object store (hack/minio/minio-up.sh) as the tests reach it: the
admin's settings from .cluster/minio.env, tenants provisioned with the product's own
`aijob_operator.tenants`, and S3 clients with a tenant's credentials."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

from aijob_api.storage import SECRET_ACCESS_KEY, SECRET_SECRET_KEY, STORAGE_SECRET, tenant_bucket
from aijob_operator.artifacts import S3Credentials, s3_client
from aijob_operator.tenants import Tenant, TenantAdmin
from lightkube import Client
from lightkube.resources.core_v1 import Secret
from minio import Minio

REPO = Path(__file__).resolve().parents[2]
MINIO_ENV = REPO / ".cluster" / "minio.env"


@cache
def minio_settings() -> dict[str, str]:
    """AIJOB_S3_* from .cluster/minio.env; AssertionError naming the fix when it is missing."""
    assert MINIO_ENV.is_file(), f"{MINIO_ENV} is missing: run make cluster-up (starts MinIO)"
    settings: dict[str, str] = {}
    for line in MINIO_ENV.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def tenant_admin(kube: Client) -> TenantAdmin:
    """The admin command's engine, on the local MinIO (from the host)."""
    settings = minio_settings()
    admin = S3Credentials(
        settings["AIJOB_S3_ADMIN_ACCESS_KEY"], settings["AIJOB_S3_ADMIN_SECRET_KEY"]
    )
    return TenantAdmin(kube, settings["AIJOB_S3_ENDPOINT"], settings["AIJOB_S3_REGION"], admin)


def add_tenant(kube: Client, namespace: str, pod_security: str | None = None) -> Tenant:
    """Bucket, user, policy and Secret for `namespace` (as an admin runs `tenants add`)."""
    tenant = Tenant(namespace, tenant_bucket(namespace))
    tenant_admin(kube).add(tenant, pod_security)
    return tenant


def remove_tenant(kube: Client, namespace: str) -> None:
    """The tenant's user, policy, Secret and bucket (with its objects) gone."""
    tenant_admin(kube).remove(Tenant(namespace, tenant_bucket(namespace)), delete_bucket=True)


def tenant_client(kube: Client, namespace: str) -> Minio:
    """An S3 client with the credentials in the tenant's own Secret (what its pods get)."""
    secret = kube.get(Secret, STORAGE_SECRET, namespace=namespace)
    data = secret.data or {}
    credentials = S3Credentials(
        base64.b64decode(data[SECRET_ACCESS_KEY]).decode(),
        base64.b64decode(data[SECRET_SECRET_KEY]).decode(),
    )
    settings = minio_settings()
    return s3_client(settings["AIJOB_S3_ENDPOINT"], settings["AIJOB_S3_REGION"], credentials)
