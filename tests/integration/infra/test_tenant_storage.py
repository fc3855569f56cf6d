"""Each tenant's own store on the local cluster's real MinIO: `tenants add` makes a bucket,
a user and the namespace's Secret; one tenant's credentials are refused by MinIO itself on
another tenant's bucket; the operator's janitor deletes a job's objects with the tenant's
own credentials."""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from collections.abc import Callable, Iterator

import pytest
from aijob_api.storage import SECRET_BUCKET_KEY, STORAGE_SECRET, StorageMode
from aijob_operator.artifacts import ArtifactJanitor
from aijob_operator.builders.pod import PodSettings
from aijob_operator.kube import KubeApi
from lightkube import AsyncClient, Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Secret
from minio import Minio
from minio.error import S3Error

from tests.support.cluster import ClusterInfo
from tests.support.storage import add_tenant, minio_settings, remove_tenant, tenant_client


@pytest.fixture
def two_tenants(kube: Client) -> Iterator[tuple[str, str]]:
    """Two tenant namespaces, each with its own store; all of it removed afterwards."""
    names = tuple(f"t-{uuid.uuid4().hex[:10]}" for _ in range(2))
    for name in names:
        kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"})))
        add_tenant(kube, name)
    try:
        yield names[0], names[1]
    finally:
        for name in names:
            remove_tenant(kube, name)
            kube.delete(Namespace, name)


def _put(client: Minio, bucket: str, key: str, data: bytes) -> None:
    client.put_object(bucket, key, io.BytesIO(data), len(data))


def test_tenant_add_makes_a_bucket_a_user_and_the_secret(
    kube: Client, two_tenants: tuple[str, str]
) -> None:
    a, _ = two_tenants
    secret = kube.get(Secret, STORAGE_SECRET, namespace=a)
    assert base64.b64decode((secret.data or {})[SECRET_BUCKET_KEY]).decode() == f"aijob-{a}"
    own = tenant_client(kube, a)
    _put(own, f"aijob-{a}", "data/x.csv", b"1,2\n")
    assert own.get_object(f"aijob-{a}", "data/x.csv").read() == b"1,2\n"
    # Run again: the same keys (pods already started keep working).
    add_tenant(kube, a)
    again = kube.get(Secret, STORAGE_SECRET, namespace=a)
    assert again.data == secret.data


def test_one_tenants_credentials_cannot_reach_anothers_bucket(
    kube: Client, two_tenants: tuple[str, str]
) -> None:
    a, b = two_tenants
    _put(tenant_client(kube, a), f"aijob-{a}", "jobs/train/model/model.joblib", b"A's model")
    intruder = tenant_client(kube, b)
    attempts: dict[str, Callable[[], object]] = {
        "read": lambda: intruder.get_object(f"aijob-{a}", "jobs/train/model/model.joblib"),
        "overwrite": lambda: _put(intruder, f"aijob-{a}", "jobs/train/model/model.joblib", b"B"),
        "list": lambda: list(intruder.list_objects(f"aijob-{a}", recursive=True)),
        "delete": lambda: intruder.remove_object(f"aijob-{a}", "jobs/train/model/model.joblib"),
        "make a bucket": lambda: intruder.make_bucket(f"aijob-{b}-extra"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(S3Error) as refused:
            attempt()
        assert refused.value.code == "AccessDenied", f"{what}: {refused.value}"
    assert tenant_client(kube, a).get_object(
        f"aijob-{a}", "jobs/train/model/model.joblib"
    ).read() == (b"A's model")


def test_the_janitor_deletes_one_jobs_objects_with_the_tenants_credentials(
    cluster: ClusterInfo, kube: Client, two_tenants: tuple[str, str]
) -> None:
    a, _ = two_tenants
    own = tenant_client(kube, a)
    for key in ("jobs/gone/model/m.bin", "jobs/gone/checkpoints/1", "jobs/gone-not/m", "data/d"):
        _put(own, f"aijob-{a}", key, b"x")
    settings = minio_settings()
    pod_settings = PodSettings(
        storage_mode=StorageMode.S3,
        s3_endpoint=settings["AIJOB_S3_ENDPOINT"],
        s3_region=settings["AIJOB_S3_REGION"],
    )

    async def delete() -> int | None:
        config = KubeConfig.from_file(str(cluster.kubeconfig))
        async with AsyncClient(config=config) as client:
            janitor = ArtifactJanitor(KubeApi(client), pod_settings, lambda *_: False)
            task = janitor.job_deleted({"metadata": {"namespace": a, "name": "gone"}})
            assert task is not None
            kept = janitor.job_deleted(
                {"metadata": {"namespace": a, "name": "gone-not",
                              "annotations": {"aijob.dev/keep-artifacts": "true"}}}
            )  # fmt: skip
            assert kept is None
            return await task

    assert asyncio.run(delete()) == 2
    left = sorted(item.object_name or "" for item in own.list_objects(f"aijob-{a}", recursive=True))
    assert left == ["data/d", "jobs/gone-not/m"]
