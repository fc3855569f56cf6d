"""Data sets beyond CSV on the real node: a scikit-learn job trains on a Parquet file and on
a directory of Parquet shards in the tenant's bucket and reports its accuracy; a file that
is not the Parquet it claims fails once as bad input naming `spec.dataset.uri`. (A format
no worker reads is refused by the gateway: tests/integration/gateway/test_confinement.py.)"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aijob_kube.resources import AIJobResource
from lightkube import Client
from minio import Minio

from tests.e2e.conftest import Release
from tests.e2e.jobs import sklearn_training, submit, unique, wait_for_phase
from tests.support.eventually import Timeout
from tests.support.storage import tenant_client

CENTRES = {"alpha": (0.0, 0.0, 1.0), "beta": (4.0, 1.0, -2.0), "gamma": (-3.0, 5.0, 2.0)}
"""Three classes around well-separated centres: a forest should score near 1."""


def _parquet(rows: int, seed: int) -> bytes:
    generator = random.Random(seed)
    columns: dict[str, list[object]] = {"x": [], "y": [], "z": [], "kind": []}
    for index in range(rows):
        kind = sorted(CENTRES)[index % len(CENTRES)]
        for axis, centre in zip("xyz", CENTRES[kind], strict=True):
            columns[axis].append(centre + generator.gauss(0.0, 0.6))
        columns["kind"].append(kind)
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def _put(store: Minio, bucket: str, key: str, content: bytes) -> str:
    store.put_object(bucket, key, io.BytesIO(content), len(content))
    return f"s3://{bucket}/{key}"


def _training(uri: str) -> dict[str, object]:
    spec = sklearn_training()
    spec["dataset"] = {"uri": uri, "targetColumn": "kind", "testFraction": 0.25}
    return spec


@pytest.fixture
def data_prefix(release: Release, kube: Client) -> Iterator[tuple[Minio, str, str]]:
    """The tenant's bucket client, bucket and a fresh prefix, emptied afterwards."""
    store = tenant_client(kube, release.tenant)
    bucket = f"aijob-{release.tenant}"
    prefix = f"data/{unique('formats')}/"
    yield store, bucket, prefix
    for item in list(store.list_objects(bucket, prefix, recursive=True)):
        store.remove_object(bucket, item.object_name or "")


def test_sklearn_trains_on_parquet_and_on_shards_from_the_tenant_bucket(
    release: Release, api: httpx.Client, kube: Client, data_prefix: tuple[Minio, str, str]
) -> None:
    store, bucket, prefix = data_prefix
    single = _put(store, bucket, f"{prefix}train.parquet", _parquet(150, seed=1))
    for shard in range(3):
        _put(store, bucket, f"{prefix}shards/part-{shard}.parquet", _parquet(50, seed=10 + shard))
    names = {single: unique("parquet"), f"s3://{bucket}/{prefix}shards/": unique("shards")}
    try:
        for uri, name in names.items():
            submit(api, name, _training(uri))
        for name in names.values():
            trained = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.REAL_TRAINING)
            results = trained["status"]["results"]
            assert results["metrics"]["accuracy"] >= 0.9, results["metrics"]
            assert results["modelUri"] == f"s3://{bucket}/jobs/{name}/model"
    finally:
        for name in names.values():
            kube.delete(AIJobResource, name, namespace=release.tenant)


def test_a_file_that_is_not_parquet_fails_once_naming_the_field(
    release: Release, api: httpx.Client, kube: Client, data_prefix: tuple[Minio, str, str]
) -> None:
    store, bucket, prefix = data_prefix
    uri = _put(store, bucket, f"{prefix}fake.parquet", b"x,y,z,kind\n1,2,3,alpha\n")
    name = unique("fake-parquet")
    submit(api, name, _training(uri))
    try:
        failed = wait_for_phase(kube, release.tenant, name, "Failed", Timeout.REAL_TRAINING)
        status = failed["status"]
        assert status["exitCode"] == 65, status
        assert status["attempts"] == 1, "bad input must never be retried"
        assert status["reason"] == "BadInput", status
        # The worker's own words, from its log (the status message quotes them only when the
        # operator saw the failed pod before the Job's failure: it may quote the Job instead).
        log = api.get(f"/v1/jobs/{name}/logs")
        assert log.status_code == 200, log.text
        assert "spec.dataset.uri: " in log.text, log.text
        assert "fake.parquet is not a readable Parquet file" in log.text, log.text
    finally:
        kube.delete(AIJobResource, name, namespace=release.tenant)
