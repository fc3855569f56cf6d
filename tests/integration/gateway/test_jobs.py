"""/v1/jobs against a real API server: submit, get, list, results, cancel, filters, pages."""

from __future__ import annotations

from typing import Any

import httpx
from aijob_api.constants import ANNOTATION_DESCRIPTION, ANNOTATION_REQUEST_HASH
from aijob_api.contract import ARTIFACTS_MOUNT_PATH as ARTIFACTS
from lightkube import Client

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import TenantKey, get_aijob, list_aijobs, patch_status

TRAINING: dict[str, Any] = {
    "spec": {
        "task": "training",
        "model": {"type": "random_forest", "hyperparameters": {"n_estimators": 10}},
        "dataset": {"name": "iris"},
    }
}


def submit(api: httpx.Client, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    response = api.post("/v1/jobs", json={**(body or TRAINING), **extra})
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def test_submit_creates_an_aijob_and_get_reads_it(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    response = api.post(
        "/v1/jobs", json={**TRAINING, "description": "rf on iris", "labels": {"team": "ml"}}
    )
    assert response.status_code == 201
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['name']}"
    assert job["namespace"] == tenant.namespace
    assert job["spec"]["model"]["type"] == "random_forest"
    stored = get_aijob(kube, tenant.namespace, job["name"])
    assert stored["spec"]["dataset"] == {"name": "iris", "testFraction": 0.2}
    assert stored["metadata"]["labels"] == {"team": "ml"}
    annotations = stored["metadata"]["annotations"]
    assert annotations[ANNOTATION_DESCRIPTION] == "rf on iris"
    assert len(annotations[ANNOTATION_REQUEST_HASH]) == 64
    fetched = api.get(f"/v1/jobs/{job['name']}")
    assert fetched.status_code == 200
    assert fetched.json()["description"] == "rf on iris"
    assert fetched.json()["uid"] == stored["metadata"]["uid"]


def test_invalid_jobs_name_the_field_and_create_nothing(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    cases = [
        ({"spec": {**TRAINING["spec"], "priority": "urgent"}}, "spec.priority"),
        ({"spec": {"task": "training", "model": {"type": "svm"}}}, "spec"),
        ({"spec": {**TRAINING["spec"], "resources": {"gpu": 1000}}}, "spec.resources.gpu"),
        ({"spec": {**TRAINING["spec"], "model": {"type": "Bad Type"}}}, "spec.model.type"),
        ({**TRAINING, "name": "Not_A_Name"}, "name"),
        ({**TRAINING, "surprise": 1}, "surprise"),
        (
            {"spec": {"task": "inference", "model": {"type": "svm"}, "input": {"records": [[1]]}}},
            "spec",
        ),
    ]
    for body, field in cases:
        response = api.post("/v1/jobs", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["field"] == field, problem
        assert problem["detail"].startswith(field), problem
        assert problem["status"] == 422
    assert "model.source" in api.post("/v1/jobs", json=cases[-1][0]).json()["detail"]
    assert list_aijobs(kube, tenant.namespace) == []


def test_unknown_job_is_a_404_problem(api: httpx.Client) -> None:
    response = api.get("/v1/jobs/no-such-job", headers={"X-Request-ID": "trace-me-1"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "trace-me-1"
    problem = response.json()
    assert problem["type"] == "urn:aijob:problem:not-found"
    assert problem["requestId"] == "trace-me-1"
    assert problem["field"] == "name"
    assert problem["instance"] == "/v1/jobs/no-such-job"


def test_status_progress_and_results_as_the_worker_writes_them(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    name = submit(api)["name"]
    pending = api.get(f"/v1/jobs/{name}/results")
    assert pending.status_code == 409
    assert "Pending" in pending.json()["detail"]
    patch_status(
        kube,
        tenant.namespace,
        name,
        {
            "phase": "Running",
            "progress": {"percent": 40, "epoch": 2, "totalEpochs": 5, "metrics": {"loss": 0.5}},
        },
    )

    def running() -> dict[str, Any]:
        job: dict[str, Any] = api.get(f"/v1/jobs/{name}").json()
        assert job["status"].get("phase") == "Running"
        return job

    job = eventually(running, timeout=Timeout.API)
    assert job["status"]["progress"]["metrics"] == {"loss": 0.5}
    patch_status(
        kube,
        tenant.namespace,
        name,
        {
            "phase": "Succeeded",
            "results": {"metrics": {"accuracy": 0.96}, "modelUri": "file:///artifacts/m.joblib"},
        },
    )

    def results() -> dict[str, Any]:
        response = api.get(f"/v1/jobs/{name}/results")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    view = eventually(results, timeout=Timeout.API)
    assert view["phase"] == "Succeeded"
    assert view["results"]["metrics"] == {"accuracy": 0.96}
    assert view["results"]["modelUri"] == "file:///artifacts/m.joblib"


def test_failed_job_says_why(api: httpx.Client, tenant: TenantKey, kube: Client) -> None:
    name = submit(api)["name"]
    patch_status(
        kube,
        tenant.namespace,
        name,
        {"phase": "Failed", "reason": "BadInput", "message": "hyperparameter n_estimators < 1"},
    )

    def failed() -> dict[str, Any]:
        response = api.get(f"/v1/jobs/{name}")
        assert response.json()["status"].get("phase") == "Failed"
        body: dict[str, Any] = response.json()
        return body

    assert eventually(failed, timeout=Timeout.API)["status"]["message"] == (
        "hyperparameter n_estimators < 1"
    )
    assert api.get(f"/v1/jobs/{name}/results").json()["message"] == (
        "hyperparameter n_estimators < 1"
    )


def test_cancel_sets_spec_cancel_and_keeps_the_record(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    name = submit(api)["name"]
    response = api.delete(f"/v1/jobs/{name}")
    assert response.status_code == 202
    assert response.json()["spec"]["cancel"] is True
    assert get_aijob(kube, tenant.namespace, name)["spec"]["cancel"] is True
    assert api.delete(f"/v1/jobs/{name}").status_code == 202  # cancelling twice is fine
    patch_status(kube, tenant.namespace, name, {"phase": "Cancelled"})
    eventually(
        lambda: api.get(f"/v1/jobs/{name}").json()["status"].get("phase") == "Cancelled",
        timeout=Timeout.API,
    )
    assert get_aijob(kube, tenant.namespace, name)["metadata"]["name"] == name


def test_cancelling_a_finished_job_is_a_conflict(
    api: httpx.Client, tenant: TenantKey, kube: Client
) -> None:
    name = submit(api)["name"]
    patch_status(kube, tenant.namespace, name, {"phase": "Succeeded"})
    eventually(
        lambda: api.get(f"/v1/jobs/{name}").json()["status"].get("phase") == "Succeeded",
        timeout=Timeout.API,
    )
    response = api.delete(f"/v1/jobs/{name}")
    assert response.status_code == 409
    assert "Succeeded" in response.json()["detail"]
    assert get_aijob(kube, tenant.namespace, name)["spec"].get("cancel") is not True


def test_filters(api: httpx.Client, tenant: TenantKey, kube: Client) -> None:
    bert = {
        "spec": {
            "task": "training",
            "model": {"type": "bert"},
            "dataset": {"name": "imdb"},
            "priority": "high",
        }
    }
    inference = {
        "spec": {
            "task": "inference",
            "model": {
                "type": "svm",
                "source": {"uri": f"file://{ARTIFACTS}/{tenant.namespace}/m/svm"},
            },
            "input": {"records": [[1, 2]]},
            "priority": "low",
        }
    }
    rf = submit(api, labels={"team": "tabular"})["name"]
    bert_name = submit(api, bert, labels={"team": "nlp"})["name"]
    inf = submit(api, inference)["name"]
    patch_status(kube, tenant.namespace, rf, {"phase": "Running"})
    eventually(
        lambda: api.get(f"/v1/jobs/{rf}").json()["status"].get("phase") == "Running",
        timeout=Timeout.API,
    )

    def names(**params: str) -> set[str]:
        response = api.get("/v1/jobs", params=params)
        assert response.status_code == 200, response.text
        return {job["name"] for job in response.json()["items"]}

    assert names() == {rf, bert_name, inf}
    assert names(phase="Running") == {rf}
    assert names(phase="Pending") == {bert_name, inf}
    assert names(task="inference") == {inf}
    assert names(framework="pytorch") == {bert_name}
    assert names(framework="sklearn") == {rf, inf}
    assert names(priority="high") == {bert_name}
    assert names(label="team") == {rf, bert_name}
    assert names(label="team in (nlp)") == {bert_name}
    assert names(label="team!=nlp") == {rf, inf}
    bad = api.get("/v1/jobs", params={"label": "team in (nlp"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "label"
    assert api.get("/v1/jobs", params={"phase": "Sleeping"}).json()["field"] == "phase"


def test_pagination_over_more_jobs_than_a_page(api: httpx.Client, tenant: TenantKey) -> None:
    created = [submit(api, name=f"page-{i:02d}")["name"] for i in range(12)]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5}
        if token:
            params["continue"] = token
        page = api.get("/v1/jobs", params=params).json()
        assert page["total"] == 12
        seen += [job["name"] for job in page["items"]]
        pages += 1
        token = page.get("continue")
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))
    other_filters = api.get("/v1/jobs", params={"limit": 5, "task": "training", "continue": "x"})
    assert other_filters.status_code == 400
    assert other_filters.json()["field"] == "continue"


def test_queue_stats(api: httpx.Client, tenant: TenantKey, kube: Client) -> None:
    waiting = submit(api, {"spec": {**TRAINING["spec"], "priority": "high"}})["name"]
    running = submit(api)["name"]
    submit(api, {"spec": {**TRAINING["spec"], "priority": "low"}})
    patch_status(
        kube,
        tenant.namespace,
        waiting,
        {"phase": "Queued", "reason": "Unschedulable", "message": "0/3 nodes have 8 free GPUs"},
    )
    patch_status(kube, tenant.namespace, running, {"phase": "Running", "framework": "sklearn"})

    def stats() -> dict[str, Any]:
        body: dict[str, Any] = api.get("/v1/queue/stats").json()
        assert body["running"] == 1
        assert body["byPhase"].get("Queued") == 1
        return body

    body = eventually(stats, timeout=Timeout.API)
    assert body["namespace"] == tenant.namespace
    assert body["total"] == 3
    assert body["waiting"] == 2
    assert body["waitingByPriority"] == {"high": 1, "normal": 0, "low": 1}
    assert body["waitingByFramework"] == {"sklearn": 2}
    reasons = {r["reason"]: r for r in body["waitingReasons"]}
    assert reasons["Unschedulable"]["exampleMessage"] == "0/3 nodes have 8 free GPUs"
