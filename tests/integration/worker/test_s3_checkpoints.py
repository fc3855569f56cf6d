"""Checkpoint pruning in the real object store: a worker with its tenant's own credentials.

The worker trains with a checkpoint every epoch into `s3://<tenant bucket>/jobs/<job>/`
(the operator's layout) and keeps only the newest `keepCheckpoints`; what is left in
the bucket is listed with the tenant's credentials.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from aijob_api.storage import SECRET_ACCESS_KEY, SECRET_SECRET_KEY, STORAGE_SECRET, tenant_bucket
from lightkube import Client
from lightkube.resources.core_v1 import Secret

from tests.integration.worker.support import create_aijob, read_aijob, worker, worker_env
from tests.support.eventually import Timeout
from tests.support.storage import add_tenant, minio_settings, remove_tenant, tenant_client


@pytest.fixture
def tenant(kube: Client, namespace: str) -> Iterator[str]:
    """The test namespace as a tenant with its own bucket, user and Secret (removed after)."""
    add_tenant(kube, namespace)
    try:
        yield namespace
    finally:
        remove_tenant(kube, namespace)


def tenant_environment(kube: Client, namespace: str) -> dict[str, str]:
    """What the operator gives a worker pod for S3: the tenant's keys and the endpoint."""
    data = kube.get(Secret, STORAGE_SECRET, namespace=namespace).data or {}
    settings = minio_settings()
    return {
        "AWS_ACCESS_KEY_ID": base64.b64decode(data[SECRET_ACCESS_KEY]).decode(),
        "AWS_SECRET_ACCESS_KEY": base64.b64decode(data[SECRET_SECRET_KEY]).decode(),
        "AWS_ENDPOINT_URL": settings["AIJOB_S3_HOST_ENDPOINT"],
        "AWS_DEFAULT_REGION": settings["AIJOB_S3_REGION"],
    }


def test_only_the_newest_checkpoints_stay_in_the_bucket(
    kube: Client, tenant: str, kubeconfig: Path, workdir: Path
) -> None:
    job = create_aijob(
        kube,
        tenant,
        "pruned",
        {
            "task": "training",
            "model": {
                "type": "random_forest",
                "hyperparameters": {
                    "nEstimators": 12,
                    "epochs": 6,
                    "checkpointEveryEpochs": 1,
                    "keepCheckpoints": 2,
                },
            },
            "dataset": {"name": "iris"},
        },
    )
    bucket = tenant_bucket(tenant)
    env = worker_env(
        job,
        workdir,
        kubeconfig,
        AIJOB_ARTIFACT_URI=f"s3://{bucket}/jobs/pruned/",
        **tenant_environment(kube, tenant),
    )
    with worker("sklearn", env, workdir / "w.log") as run:
        assert run.wait(timeout=Timeout.REAL_TRAINING) == 0, run.output()[-3000:]

    client = tenant_client(kube, tenant)
    keys = [
        item.object_name
        for item in client.list_objects(bucket, prefix="jobs/pruned/checkpoints/", recursive=True)
    ]
    checkpoints = sorted({key.split("/")[3] for key in keys if key})
    assert checkpoints == ["epoch-00004", "epoch-00005"], keys
    status = read_aijob(kube, tenant, "pruned").status
    assert status.checkpoint is not None
    assert status.checkpoint.uri == f"s3://{bucket}/jobs/pruned/checkpoints/epoch-00005"
    assert status.results is not None
    assert status.results.model_uri == f"s3://{bucket}/jobs/pruned/model"
