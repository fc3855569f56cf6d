"""The watch-backed cache: changes made outside the gateway show up; deletions disappear."""

from __future__ import annotations

import httpx
from aijob_kube.resources import AIJobResource
from lightkube import Client

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import TenantKey, patch_status


def create_wine_svm(kube: Client, namespace: str, name: str, **metadata: object) -> None:
    """Create an AIJob straight through the API server, as kubectl would."""
    manifest = {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIJob",
        "metadata": {"name": name, "namespace": namespace, **metadata},
        "spec": {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "wine"}},
    }
    kube.create(AIJobResource.from_dict(manifest))


def test_jobs_created_and_deleted_with_kubectl_show_through_the_gateway(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    create_wine_svm(kube, tenant.namespace, "from-kubectl")
    eventually(lambda: api.get("/v1/jobs/from-kubectl").status_code == 200, timeout=Timeout.API)
    assert api.get("/v1/jobs/from-kubectl").json()["spec"]["dataset"]["name"] == "wine"
    kube.delete(AIJobResource, "from-kubectl", namespace=tenant.namespace)
    eventually(lambda: api.get("/v1/jobs/from-kubectl").status_code == 404, timeout=Timeout.API)


def test_a_job_is_readable_right_after_it_was_created(api: httpx.Client) -> None:
    body = {"spec": {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}}}
    for _ in range(5):
        name = api.post("/v1/jobs", json=body).json()["name"]
        assert api.get(f"/v1/jobs/{name}").status_code == 200


def test_a_line_break_character_inside_a_job_does_not_stop_the_watch(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    # The API server writes U+0085 raw in its JSON; a reader splitting like str.splitlines
    # cut this job's watch event in two, and the cache stopped following every job.
    annotations = {"aijob.dev/description": "one\u0085two\u2028three"}
    create_wine_svm(kube, tenant.namespace, "odd-text", annotations=annotations)
    eventually(lambda: api.get("/v1/jobs/odd-text").status_code == 200, timeout=Timeout.API)
    patch_status(kube, tenant.namespace, "odd-text", {"phase": "Running"})

    def running() -> bool:
        job = api.get("/v1/jobs/odd-text").json()
        return bool(job["status"].get("phase") == "Running")

    eventually(running, timeout=Timeout.API, what="the status change seen through the gateway")
