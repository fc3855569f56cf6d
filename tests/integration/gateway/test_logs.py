"""GET /v1/jobs/{name}/logs: the worker container's log of the job's pod, read for real
from a pod on the real node through the API server's pods/log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Node, Pod

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import TenantKey, patch_status
from tests.support.real_node import finished_worker_pod

TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {"type": "random_forest"},
    "dataset": {"name": "iris"},
}
LINES = ["epoch 1 loss 0.9", "epoch 2 loss 0.5", "done: accuracy 0.97"]


def submit(api: httpx.Client, name: str) -> None:
    response = api.post("/v1/jobs", json={"name": name, "spec": TRAINING})
    assert response.status_code == 201, response.text


def test_a_job_without_a_pod_has_no_log_yet(api: httpx.Client) -> None:
    submit(api, "no-pod")
    response = api.get("/v1/jobs/no-pod/logs")
    assert response.status_code == 409, response.text
    assert "has no pod yet" in response.json()["detail"]
    assert api.get("/v1/jobs/nobody/logs").status_code == 404


@pytest.fixture
def worker_pod(kube: Client, tenant: TenantKey, real_node: Node) -> str:
    """A finished pod on the real node whose worker container printed LINES."""
    return finished_worker_pod(kube, tenant.namespace, "worker-pod", LINES)


def test_the_log_of_the_jobs_pod_whole_tailed_and_followed(
    api: httpx.Client, kube: Client, tenant: TenantKey, worker_pod: str
) -> None:
    submit(api, "with-pod")
    patch_status(kube, tenant.namespace, "with-pod", {"podName": worker_pod})

    def served() -> httpx.Response:
        response = api.get("/v1/jobs/with-pod/logs")
        assert response.status_code == 200, response.text
        return response

    whole = eventually(served, timeout=Timeout.API, what="the log through the gateway")
    assert whole.headers["content-type"].startswith("text/plain")
    assert whole.text.splitlines() == LINES

    tailed = api.get("/v1/jobs/with-pod/logs", params={"tail": 1})
    assert tailed.text.splitlines() == LINES[-1:]

    # Following a finished container returns what it printed, then ends.
    followed = api.get("/v1/jobs/with-pod/logs", params={"follow": "true"})
    assert followed.text.splitlines() == LINES

    kube.delete(Pod, worker_pod, namespace=tenant.namespace, grace_period=0)

    def gone() -> bool:
        response = api.get("/v1/jobs/with-pod/logs")
        assert response.status_code == 404, response.text
        return "no longer exists" in response.json()["detail"]

    eventually(gone, timeout=Timeout.REAL_POD, what="the deleted pod's log reported gone")


def test_bad_log_parameters_name_the_field(api: httpx.Client) -> None:
    submit(api, "params")
    response = api.get("/v1/jobs/params/logs", params={"tail": 0})
    assert response.status_code == 422
    assert "tail" in response.text
