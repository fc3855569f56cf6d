"""A job's artifacts out of the real object store (the local cluster's MinIO), through a real
gateway and the real `aijob` command: objects put with the tenant's own credentials are listed
with the checksums the status recorded, streamed and downloaded with equal checksums, signed
URLs read them; another tenant's key gets 404; a path that leaves the job's prefix is 400."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aijob_cli.exitcodes import ExitCode
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace
from minio import Minio

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import (
    RunningGateway,
    TenantKey,
    mint_tenant_key,
    patch_status,
    start_gateway,
)
from tests.support.storage import add_tenant, minio_settings, remove_tenant, tenant_client

AIJOB = str(Path(sys.executable).parent / "aijob")
JOB = "iris"
SPEC: dict[str, Any] = {
    "task": "training",
    "model": {"type": "random_forest"},
    "dataset": {"name": "iris"},
}


@dataclass(frozen=True)
class Tenant:
    """A tenant namespace with its own bucket and key."""

    key: TenantKey
    bucket: str
    s3: Minio

    def put(self, key: str, data: bytes) -> str:
        self.s3.put_object(self.bucket, key, io.BytesIO(data), len(data))
        return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def s3_gateway(cluster: ClusterInfo, kube: Client, aijob_crd: str) -> Iterator[RunningGateway]:
    """A gateway told the chart's default storage, reading the local MinIO."""
    settings = minio_settings()
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    server, running = start_gateway(
        cluster,
        namespace,
        storage_mode="s3",
        s3_endpoint=settings["AIJOB_S3_ENDPOINT"],
        s3_region=settings["AIJOB_S3_REGION"],
        artifact_url_seconds=60,
    )
    try:
        yield running
    finally:
        server.stop()
        kube.delete(Namespace, namespace)


def _tenant(kube: Client, gateway: RunningGateway) -> Iterator[Tenant]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"})))
    try:
        tenant = add_tenant(kube, name)
        yield Tenant(mint_tenant_key(gateway, name), tenant.bucket, tenant_client(kube, name))
    finally:
        remove_tenant(kube, name)
        kube.delete(Namespace, name)


@pytest.fixture
def owner(kube: Client, s3_gateway: RunningGateway) -> Iterator[Tenant]:
    yield from _tenant(kube, s3_gateway)


@pytest.fixture
def intruder(kube: Client, s3_gateway: RunningGateway) -> Iterator[Tenant]:
    yield from _tenant(kube, s3_gateway)


@dataclass(frozen=True)
class TrainedJob:
    """A finished job whose files lie in its tenant's bucket, their checksums in its status."""

    files: dict[str, bytes]
    checksums: dict[str, str]


@pytest.fixture
def trained(s3_gateway: RunningGateway, owner: Tenant, kube: Client) -> TrainedJob:
    namespace = owner.key.namespace
    created = httpx.post(
        f"{s3_gateway.url}/v1/jobs", json={"name": JOB, "spec": SPEC}, headers=owner.key.headers
    )
    assert created.status_code == 201, created.text
    files = {
        "model/model.joblib": os.urandom(300_000),  # several chunks of the stream
        "results.json": b'{"outputs": [0, 1, 2]}',
        "checkpoints/epoch-0001.ckpt": b"a checkpoint, not recorded in the status",
    }
    checksums = {path: owner.put(f"jobs/{JOB}/{path}", data) for path, data in files.items()}
    # A namesake prefix that is another job's: never listed as this one's.
    owner.put(f"jobs/{JOB}-2/model/model.joblib", b"another job's model")
    uri = f"s3://{owner.bucket}/jobs/{JOB}/"
    recorded = ("model/model.joblib", "results.json")
    patch_status(
        kube,
        namespace,
        JOB,
        {
            "phase": "Succeeded",
            "results": {
                "modelUri": f"{uri}model",
                "resultsUri": f"{uri}results.json",
                "artifacts": [
                    {"name": path, "uri": f"{uri}{path}", "sha256": checksums[path]}
                    for path in recorded
                ],
            },
        },
    )

    def finished() -> bool:
        response = httpx.get(f"{s3_gateway.url}/v1/jobs/{JOB}/results", headers=owner.key.headers)
        return response.status_code == 200

    eventually(finished, timeout=Timeout.API, what="the gateway sees the finished job")
    return TrainedJob(files, checksums)


def test_artifacts_are_listed_and_streamed_with_the_recorded_checksums(
    s3_gateway: RunningGateway, owner: Tenant, trained: TrainedJob
) -> None:
    with httpx.Client(base_url=s3_gateway.url, headers=owner.key.headers, timeout=30) as api:
        listing = api.get(f"/v1/jobs/{JOB}/artifacts")
        assert listing.status_code == 200, listing.text
        body = listing.json()
        assert body["uri"] == f"s3://{owner.bucket}/jobs/{JOB}/"
        assert body["truncated"] is False
        items = {item["path"]: item for item in body["items"]}
        assert set(items) == set(trained.files)
        for path, data in trained.files.items():
            assert items[path]["sizeBytes"] == len(data)
            assert items[path]["lastModified"]
        assert items["model/model.joblib"]["sha256"] == trained.checksums["model/model.joblib"]
        assert items["checkpoints/epoch-0001.ckpt"]["sha256"] is None

        with api.stream("GET", f"/v1/jobs/{JOB}/artifacts/model/model.joblib") as response:
            assert response.status_code == 200
            assert response.headers["content-length"] == "300000"
            recorded = response.headers["x-checksum-sha256"]
            digest = hashlib.sha256()
            chunks = 0
            for chunk in response.iter_bytes():
                digest.update(chunk)
                chunks += 1
        assert digest.hexdigest() == recorded == trained.checksums["model/model.joblib"]
        assert chunks > 1

        # The results too large for the status: linked from the results, downloadable.
        results = api.get(f"/v1/jobs/{JOB}/results").json()
        assert results["resultsLink"] == f"/v1/jobs/{JOB}/artifacts/results.json"
        assert api.get(results["resultsLink"]).content == trained.files["results.json"]

        # A signed URL of the store itself, valid a minute.
        redirect = api.get(f"/v1/jobs/{JOB}/artifacts/results.json", params={"redirect": "true"})
        assert redirect.status_code == 307, redirect.text
        signed = redirect.headers["location"]
        assert signed.startswith(minio_settings()["AIJOB_S3_ENDPOINT"])
        assert httpx.get(signed).content == trained.files["results.json"]


@pytest.mark.parametrize(
    "path",
    [
        "%2E%2E/%2E%2E/jobs/other/model.joblib",
        "model%2F..%2F..%2Firis-2%2Fmodel%2Fmodel.joblib",
        "%2Fetc%2Fpasswd",
        "model/%252e%252e/x",
        "model%5C..%5Cx",
    ],
)
def test_a_path_that_leaves_the_jobs_prefix_is_400_naming_the_field(
    s3_gateway: RunningGateway, owner: Tenant, trained: TrainedJob, path: str
) -> None:
    response = httpx.get(
        f"{s3_gateway.url}/v1/jobs/{JOB}/artifacts/{path}", headers=owner.key.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "path"


def test_another_tenant_gets_404_and_its_own_empty_store(
    s3_gateway: RunningGateway, trained: TrainedJob, intruder: Tenant, owner: Tenant
) -> None:
    with httpx.Client(base_url=s3_gateway.url, headers=intruder.key.headers, timeout=30) as api:
        for path in ("", "/model/model.joblib", "/results.json?redirect=true"):
            response = api.get(f"/v1/jobs/{JOB}/artifacts{path}")
            assert response.status_code == 404, (path, response.text)
            assert owner.key.namespace not in response.text
        missing = httpx.get(
            f"{s3_gateway.url}/v1/jobs/{JOB}/artifacts/nothing-here",
            headers=owner.key.headers,
        )
        assert missing.status_code == 404
        assert missing.json()["field"] == "path"


def _aijob(
    gateway: RunningGateway, key: TenantKey, tmp: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIJOB_GATEWAY_URL": gateway.url,
        "AIJOB_API_KEY": key.key,
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "COLUMNS": "250",
    }
    return subprocess.run(
        [AIJOB, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_cli_lists_and_downloads_with_equal_checksums(
    s3_gateway: RunningGateway, owner: Tenant, trained: TrainedJob, tmp_path: Path
) -> None:
    listed = _aijob(s3_gateway, owner.key, tmp_path, "artifacts", "list", JOB)
    assert listed.returncode == 0, listed.stderr
    for path in trained.files:
        assert path in listed.stdout
    assert trained.checksums["model/model.joblib"] in listed.stdout

    out = tmp_path / "out"
    everything = _aijob(
        s3_gateway, owner.key, tmp_path, "artifacts", "download", JOB, "-o", str(out)
    )
    assert everything.returncode == 0, everything.stderr
    for path in trained.files:
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == trained.checksums[path]
    assert everything.stdout.count("sha256 verified") == 2
    assert "no checksum recorded" in everything.stdout

    one = _aijob(
        s3_gateway,
        owner.key,
        tmp_path,
        "artifacts",
        "download",
        JOB,
        "results.json",
        "-o",
        str(tmp_path / "one"),
    )
    assert one.returncode == 0, one.stderr
    assert (tmp_path / "one" / "results.json").read_bytes() == trained.files["results.json"]

    refused = _aijob(s3_gateway, owner.key, tmp_path, "artifacts", "download", JOB, "../x")
    assert refused.returncode == ExitCode.INVALID
    assert "path" in refused.stderr


def test_the_cli_refuses_a_file_changed_since_the_job_recorded_it(
    s3_gateway: RunningGateway, owner: Tenant, trained: TrainedJob, tmp_path: Path
) -> None:
    owner.put(f"jobs/{JOB}/model/model.joblib", b"rewritten behind the job's back")
    result = _aijob(
        s3_gateway,
        owner.key,
        tmp_path,
        "artifacts",
        "download",
        JOB,
        "model/model.joblib",
        "-o",
        str(tmp_path),
    )
    assert result.returncode == ExitCode.CHECKSUM, result.stdout + result.stderr
    assert "MISMATCH" in result.stderr
    assert not (tmp_path / "model" / "model.joblib").exists()


def test_a_hostpath_gateway_says_artifacts_are_served_from_an_object_store_only(
    api: httpx.Client, tenant: TenantKey
) -> None:
    created = api.post("/v1/jobs", json={"name": JOB, "spec": SPEC})
    assert created.status_code == 201, created.text
    for path in ("", "/model/model.joblib"):
        response = api.get(f"/v1/jobs/{JOB}/artifacts{path}")
        assert response.status_code == 409, response.text
        assert "served only from an object store" in response.json()["detail"]
    assert api.get("/v1/jobs/absent/artifacts").status_code == 404  # scoped first
