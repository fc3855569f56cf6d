"""`python -m aijob_operator.tenants`: give a tenant namespace its own store, or take it away.

`add NS` (idempotent) creates, on an S3-compatible store with an admin API (MinIO):
the tenant's bucket (`aijob-NS` by default), a user of its own whose one policy allows
that bucket only, and the Secret `aijob-storage` in NS holding that user's keys (which
worker pods get through `secretKeyRef`, and the operator reads to delete a job's
artifacts). The namespace is created if missing and, with `--pod-security restricted`,
labelled to enforce Pod Security `restricted`. Run again, it keeps the Secret's keys.
`remove NS` deletes the user, its policy and the Secret (`--delete-bucket` the data too).

The S3 admin (root) credentials come from the environment (`AIJOB_S3_ADMIN_ACCESS_KEY`,
`AIJOB_S3_ADMIN_SECRET_KEY`, `AIJOB_S3_ENDPOINT`: the local cluster writes them to
.cluster/minio.env) and the cluster from the admin's kubeconfig; neither reaches any pod.
AWS S3, GCS or Ceph have no MinIO admin API: create the bucket, an access key limited to
it and the Secret by hand (docs/real-cluster.md).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from aijob_api.storage import (
    DEFAULT_BUCKET_TEMPLATE,
    SECRET_ACCESS_KEY,
    SECRET_BUCKET_KEY,
    SECRET_SECRET_KEY,
    STORAGE_SECRET,
    tenant_bucket,
)
from aijob_kube.errors import AlreadyExistsError, NotFoundError, kube_errors
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Secret
from lightkube.types import PatchType
from minio import Minio
from minio.credentials.providers import StaticProvider
from minio.minioadmin import MinioAdmin

from aijob_operator.artifacts import S3Credentials, delete_prefix, s3_client

ENV_ADMIN_ACCESS_KEY: Final = "AIJOB_S3_ADMIN_ACCESS_KEY"
ENV_ADMIN_SECRET_KEY: Final = "AIJOB_S3_ADMIN_SECRET_KEY"  # noqa: S105 - a variable's name
ENV_ENDPOINT: Final = "AIJOB_S3_ENDPOINT"
ENV_REGION: Final = "AIJOB_S3_REGION"
MANAGED_LABELS: Final = {
    "app.kubernetes.io/part-of": "aijob",
    "app.kubernetes.io/component": "tenant-storage",
}
POD_SECURITY_LABEL: Final = "pod-security.kubernetes.io/enforce"
SECRET_KEY_BYTES: Final = 30


@dataclass(frozen=True)
class Tenant:
    """What a tenant's store is made of."""

    namespace: str
    bucket: str

    @property
    def user(self) -> str:
        """The tenant's S3 user (its access key)."""
        return f"aijob-{self.namespace}"

    @property
    def policy(self) -> str:
        """The name of the tenant's one policy."""
        return f"aijob-tenant-{self.namespace}"


def bucket_policy(bucket: str) -> dict[str, Any]:
    """Everything on `bucket` and its objects, nothing else (no bucket listing, no admin)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:*"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


class TenantAdmin:
    """Provisions tenants with the S3 admin credentials and the admin's kubeconfig."""

    def __init__(self, kube: Client, endpoint: str, region: str, admin: S3Credentials) -> None:
        self.kube = kube
        self.endpoint = endpoint
        self.region = region
        self.s3: Minio = s3_client(endpoint, region, admin)
        secure = endpoint.startswith("https://")
        self.admin = MinioAdmin(
            endpoint=endpoint.split("://", 1)[-1].rstrip("/"),
            credentials=StaticProvider(admin.access_key, admin.secret_key),
            region=region,
            secure=secure,
        )

    def add(self, tenant: Tenant, pod_security: str | None = None) -> S3Credentials:
        """Bucket, user, policy, namespace and Secret; the tenant's credentials."""
        self._namespace(tenant.namespace, pod_security)
        if not self.s3.bucket_exists(tenant.bucket):
            self.s3.make_bucket(tenant.bucket, location=self.region or None)
        credentials = self._existing(tenant) or S3Credentials(
            tenant.user, secrets.token_urlsafe(SECRET_KEY_BYTES)
        )
        self.admin.user_add(credentials.access_key, credentials.secret_key)
        self.admin.policy_add(tenant.policy, policy=bucket_policy(tenant.bucket))
        self.admin.policy_set(tenant.policy, user=credentials.access_key)
        self._secret(tenant, credentials)
        return credentials

    def remove(self, tenant: Tenant, *, delete_bucket: bool = False) -> None:
        """The user, its policy and the Secret gone; the bucket too if asked."""
        for remove, name in (
            (self.admin.user_remove, tenant.user),
            (self.admin.policy_remove, tenant.policy),
        ):
            try:
                remove(name)
            except Exception as error:  # absent already is fine
                if "not exist" not in str(error) and "NoSuch" not in str(error):
                    raise
        try:
            with kube_errors(f"delete Secret {tenant.namespace}/{STORAGE_SECRET}"):
                self.kube.delete(Secret, STORAGE_SECRET, namespace=tenant.namespace)
        except NotFoundError:
            pass
        if delete_bucket and self.s3.bucket_exists(tenant.bucket):
            delete_prefix(self.s3, tenant.bucket, "")
            self.s3.remove_bucket(tenant.bucket)

    def _namespace(self, name: str, pod_security: str | None) -> None:
        labels = {POD_SECURITY_LABEL: pod_security} if pod_security else {}
        try:
            with kube_errors(f"create namespace {name}"):
                self.kube.create(Namespace(metadata=ObjectMeta(name=name, labels=labels)))
        except AlreadyExistsError:
            if labels:
                with kube_errors(f"label namespace {name}"):
                    patch = {"metadata": {"labels": labels}}
                    self.kube.patch(Namespace, name, patch, patch_type=PatchType.MERGE)

    def _existing(self, tenant: Tenant) -> S3Credentials | None:
        try:
            with kube_errors(f"read Secret {tenant.namespace}/{STORAGE_SECRET}"):
                secret = self.kube.get(Secret, STORAGE_SECRET, namespace=tenant.namespace)
        except NotFoundError:
            return None
        data = secret.data or {}
        if SECRET_ACCESS_KEY not in data or SECRET_SECRET_KEY not in data:
            return None
        return S3Credentials(
            base64.b64decode(data[SECRET_ACCESS_KEY]).decode(),
            base64.b64decode(data[SECRET_SECRET_KEY]).decode(),
        )

    def _secret(self, tenant: Tenant, credentials: S3Credentials) -> None:
        values = {
            SECRET_ACCESS_KEY: credentials.access_key,
            SECRET_SECRET_KEY: credentials.secret_key,
            SECRET_BUCKET_KEY: tenant.bucket,
        }
        data = {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}
        secret = Secret(
            metadata=ObjectMeta(
                name=STORAGE_SECRET, namespace=tenant.namespace, labels=MANAGED_LABELS
            ),
            type="Opaque",
            data=data,
        )
        what = f"write Secret {tenant.namespace}/{STORAGE_SECRET}"
        try:
            with kube_errors(what):
                self.kube.create(secret)
        except AlreadyExistsError:
            with kube_errors(what):
                self.kube.patch(
                    Secret,
                    STORAGE_SECRET,
                    {"data": data},
                    namespace=tenant.namespace,
                    patch_type=PatchType.MERGE,
                )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aijob_operator.tenants", description=__doc__)
    parser.add_argument("--endpoint", default=os.environ.get(ENV_ENDPOINT, ""))
    parser.add_argument("--region", default=os.environ.get(ENV_REGION, "us-east-1"))
    parser.add_argument("--bucket-template", default=DEFAULT_BUCKET_TEMPLATE)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create or refresh a tenant's bucket, user and Secret")
    add.add_argument("namespace")
    add.add_argument("--pod-security", choices=["restricted", "baseline"], default=None)
    remove = commands.add_parser("remove", help="delete a tenant's user, policy and Secret")
    remove.add_argument("namespace")
    remove.add_argument("--delete-bucket", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 2 with a message on stderr when a setting is missing or wrong."""
    args = _parser().parse_args(argv)
    access = os.environ.get(ENV_ADMIN_ACCESS_KEY)
    secret = os.environ.get(ENV_ADMIN_SECRET_KEY)
    if not args.endpoint or not access or not secret:
        print(
            f"set {ENV_ADMIN_ACCESS_KEY}, {ENV_ADMIN_SECRET_KEY} and {ENV_ENDPOINT} (or "
            "--endpoint): the S3 admin's credentials (locally: source .cluster/minio.env)",
            file=sys.stderr,
        )
        return 2
    try:
        tenant = Tenant(args.namespace, tenant_bucket(args.namespace, args.bucket_template))
        admin = TenantAdmin(Client(), args.endpoint, args.region, S3Credentials(access, secret))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "remove":
        admin.remove(tenant, delete_bucket=args.delete_bucket)
        print(f"tenant {tenant.namespace}: user, policy and Secret {STORAGE_SECRET} removed")
        return 0
    credentials = admin.add(tenant, args.pod_security)
    summary = {
        "namespace": tenant.namespace,
        "bucket": tenant.bucket,
        "user": credentials.access_key,
        "secret": f"{tenant.namespace}/{STORAGE_SECRET}",
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
