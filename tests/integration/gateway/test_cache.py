"""The watch-backed cache: changes made outside the gateway show up; deletions disappear."""

from __future__ import annotations

import httpx
from aijob_gateway.kube.client import AIJobResource
from lightkube import Client

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import TenantKey


def test_jobs_created_and_deleted_with_kubectl_show_through_the_gateway(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    manifest = {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIJob",
        "metadata": {"name": "from-kubectl", "namespace": tenant.namespace},
        "spec": {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "wine"}},
    }
    kube.create(AIJobResource(manifest))
    eventually(lambda: api.get("/v1/jobs/from-kubectl").status_code == 200, timeout=Timeout.API)
    assert api.get("/v1/jobs/from-kubectl").json()["spec"]["dataset"]["name"] == "wine"
    kube.delete(AIJobResource, "from-kubectl", namespace=tenant.namespace)
    eventually(lambda: api.get("/v1/jobs/from-kubectl").status_code == 404, timeout=Timeout.API)


def test_a_job_is_readable_right_after_it_was_created(api: httpx.Client) -> None:
    body = {"spec": {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}}}
    for _ in range(5):
        name = api.post("/v1/jobs", json=body).json()["name"]
        assert api.get(f"/v1/jobs/{name}").status_code == 200
