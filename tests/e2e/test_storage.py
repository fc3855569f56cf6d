"""The tenant's own bucket on the real node: a training job writes its model there, an
inference job reads it back after checking the checksum the training job recorded, a model
changed in the bucket is refused, a URI outside the bucket is refused at once, and a deleted
job's objects go with it. The e2e tenant enforces Pod Security `restricted`."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import httpx
from aijob_api.constants import API_VERSION, KIND
from aijob_kube.resources import AIJobResource
from lightkube import Client
from lightkube.resources.core_v1 import Namespace
from minio import Minio

from tests.e2e.conftest import Release
from tests.e2e.jobs import sklearn_training, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob
from tests.support.storage import add_tenant, remove_tenant, tenant_client

MANIFEST = "aijob-model.json"
RECORDS = [[5.1, 3.5, 1.4, 0.2]]


def _objects(client: Minio, bucket: str, prefix: str) -> list[str]:
    return sorted(
        item.object_name or "" for item in client.list_objects(bucket, prefix, recursive=True)
    )


def _predict(api: httpx.Client, name: str, training: str) -> None:
    submit(
        api,
        name,
        {
            "task": "inference",
            "model": {"type": "random_forest", "source": {"trainingJob": training}},
            "input": {"records": RECORDS},
            "resources": {"cpu": "250m", "memory": "256Mi"},
        },
    )


def test_the_model_lives_in_the_tenant_bucket_and_is_checked_before_loading(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    tenant = release.tenant
    metadata = kube.get(Namespace, tenant).metadata
    assert metadata is not None
    labels = metadata.labels or {}
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"
    bucket = f"aijob-{tenant}"
    name = unique("stored")
    submit(api, name, sklearn_training())
    trained = wait_for_phase(kube, tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    results = trained["status"]["results"]
    assert results["modelUri"] == f"s3://{bucket}/jobs/{name}/model"
    store = tenant_client(kube, tenant)
    prefix = f"jobs/{name}/model/"
    assert f"{prefix}{MANIFEST}" in _objects(store, bucket, prefix)
    stored_manifest = store.get_object(bucket, f"{prefix}{MANIFEST}").read()
    recorded = {item["name"]: item.get("sha256") for item in results["artifacts"]}
    assert recorded[f"model/{MANIFEST}"] == hashlib.sha256(stored_manifest).hexdigest()

    good = unique("stored-predict")
    _predict(api, good, name)
    predicted = wait_for_phase(kube, tenant, good, "Succeeded", Timeout.REAL_TRAINING)
    assert predicted["status"]["results"]["outputs"][0]["prediction"] == "setosa"

    # Files and manifest rewritten together, consistent with each other: only the checksum
    # the training job recorded in its status can tell.
    manifest = json.loads(stored_manifest)
    model_file = next(path for path in manifest["files"] if path != MANIFEST)
    evil = b"not the model that was trained"
    store.put_object(bucket, f"{prefix}{model_file}", io.BytesIO(evil), len(evil))
    manifest["files"][model_file] = hashlib.sha256(evil).hexdigest()
    rewritten = json.dumps(manifest).encode()
    store.put_object(bucket, f"{prefix}{MANIFEST}", io.BytesIO(rewritten), len(rewritten))
    tampered = unique("stored-tampered")
    _predict(api, tampered, name)
    failed = wait_for_phase(kube, tenant, tampered, "Failed", Timeout.REAL_TRAINING)
    assert "not the one its training job recorded" in failed["status"]["message"], failed

    # Deleting the training job deletes its objects (the operator, with the tenant's keys).
    kube.delete(AIJobResource, name, namespace=tenant)

    def gone() -> bool:
        return not _objects(store, bucket, f"jobs/{name}/")

    eventually(gone, timeout=Timeout.REAL_POD, what=f"the objects of {name} deleted")


def test_a_uri_in_another_bucket_is_refused_at_submission(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    """The gateway applies the operator's rule (kubectl, past the gateway, meets the
    operator's: test_hostile_tenant.py)."""
    name = unique("elsewhere")
    spec = sklearn_training()
    spec["dataset"] = {"uri": "s3://aijob-demo/data/iris.csv"}
    response = api.post("/v1/jobs", json={"name": name, "spec": spec})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "spec.dataset.uri", problem
    assert problem["detail"].startswith("spec.dataset.uri: "), problem
    names = {job["metadata"]["name"] for job in kube.list(AIJobResource, namespace=release.tenant)}
    assert name not in names, "nothing was created"


def test_a_namespace_without_a_store_waits_naming_the_command_then_runs(
    release: Release, kube: Client
) -> None:
    """No `tenants add` yet: the job's pod waits for the Secret and the status says which
    command an admin runs; once it ran, the same job trains (nothing to resubmit)."""
    namespace = release.storeless[0]
    name = unique("waits-for-store")
    manifest = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": sklearn_training(),
    }
    kube.create(AIJobResource.from_dict(manifest))
    try:

        def waits_for_the_store() -> dict[str, Any]:
            status = get_aijob(kube, namespace, name).get("status") or {}
            assert status.get("reason") == "NoTenantStore", status.get("message")
            return status

        status = eventually(
            waits_for_the_store, timeout=Timeout.REAL_POD, what=f"{name} NoTenantStore"
        )
        assert status["phase"] == "Queued"
        assert f"tenants add {namespace}" in status["message"]
        add_tenant(kube, namespace, "restricted")
        wait_for_phase(kube, namespace, name, "Succeeded", Timeout.REAL_TRAINING)
    finally:
        kube.delete(AIJobResource, name, namespace=namespace)
        remove_tenant(kube, namespace)
