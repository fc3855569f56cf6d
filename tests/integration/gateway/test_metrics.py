"""GET /v1/jobs/{name}/metrics and metrics.svg on a real API server: a real sklearn worker
writes the AIJob's metric history while the gateway serves it; another tenant gets 404."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
from aijob_api.models import AIJob
from lightkube import Client

from tests.integration.worker.support import WorkerEndedError, worker, worker_env
from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, TenantKey, get_aijob

EPOCHS = 40
TRAINING: dict[str, Any] = {
    "spec": {
        "task": "training",
        "model": {
            "type": "random_forest",
            "hyperparameters": {"nEstimators": 240, "epochs": EPOCHS},
        },
        "dataset": {"name": "digits"},
    }
}
SVG = "{http://www.w3.org/2000/svg}"


def metrics(api: httpx.Client, name: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/v1/jobs/{name}/metrics", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_history_is_served_while_the_worker_writes_it(
    api: httpx.Client,
    gateway: RunningGateway,
    tenant: TenantKey,
    other_tenant: TenantKey,
    kube: Client,
    cluster: ClusterInfo,
    tmp_path: Path,
) -> None:
    name = api.post("/v1/jobs", json={**TRAINING, "name": "curves"}).json()["name"]
    assert metrics(api, name)["series"] == [], "no metric reported yet"
    job = AIJob.model_validate(get_aijob(kube, tenant.namespace, name))
    env = worker_env(job, tmp_path, cluster.kubeconfig, AIJOB_PROGRESS_INTERVAL_SECONDS="0.2")
    lengths: set[int] = set()

    with worker("sklearn", env, tmp_path / "worker.log") as run:

        def history_grows_while_training() -> bool:
            if not run.running():
                raise WorkerEndedError(f"the worker ended early:\n{run.output()[-3000:]}")
            served = metrics(api, name)["series"]
            if served:
                lengths.add(len(served[0]["points"]))
            return len({length for length in lengths if 0 < length < EPOCHS}) >= 2

        eventually(
            history_grows_while_training,
            timeout=Timeout.REAL_TRAINING,
            interval=0.1,
            what="two different lengths of the served history while the worker trains",
        )
        assert run.wait(timeout=Timeout.REAL_TRAINING) == 0, run.output()[-3000:]

    stored = get_aijob(kube, tenant.namespace, name)["status"]
    history = stored["metricHistory"]
    accuracy = history["series"][0]
    assert accuracy["name"] == "accuracy"
    assert accuracy["axis"] == "epoch"
    assert accuracy["x"] == list(range(1, EPOCHS + 1)), "40 points: all kept"

    def served_as_stored() -> dict[str, Any]:
        view = metrics(api, name)
        assert view["series"], "no series served yet"
        assert len(view["series"][0]["points"]) == EPOCHS
        return view

    view = eventually(served_as_stored, timeout=Timeout.API, what="the final history served")
    assert view["namespace"] == tenant.namespace
    assert [series["name"] for series in view["series"]] == [s["name"] for s in history["series"]]
    served = view["series"][0]
    assert [(p["x"], p["value"]) for p in served["points"]] == list(
        zip(accuracy["x"], accuracy["values"], strict=True)
    )
    assert served["max"] == max(accuracy["values"])
    assert served["last"]["value"] == round(stored["results"]["metrics"]["accuracy"], 6)
    assert metrics(api, name, series="f1Macro")["series"][0]["name"] == "f1Macro"
    unknown = api.get(f"/v1/jobs/{name}/metrics", params={"series": "loss"})
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "series"

    chart = api.get(f"/v1/jobs/{name}/metrics.svg", params={"width": 640})
    assert chart.status_code == 200
    assert chart.headers["content-type"] == "image/svg+xml"
    assert chart.headers["x-content-type-options"] == "nosniff"
    root = ET.fromstring(chart.text)
    assert root.get("width") == "640"
    lines = {
        line.get("data-series"): line
        for line in root.iter(f"{SVG}polyline")
        if line.get("class") == "series"
    }
    assert set(lines) == {"accuracy", "f1Macro"}
    assert len((lines["accuracy"].get("points") or "").split()) == EPOCHS

    # The history is too big for lists; the job itself carries it.
    listed = api.get("/v1/jobs").json()["items"]
    assert [item["name"] for item in listed] == [name]
    assert listed[0]["status"]["metricHistory"] is None
    assert api.get(f"/v1/jobs/{name}").json()["status"]["metricHistory"] == history

    # Another tenant's key does not even learn that the job exists.
    with httpx.Client(base_url=gateway.url, headers=other_tenant.headers, timeout=30) as other:
        for path in (f"/v1/jobs/{name}/metrics", f"/v1/jobs/{name}/metrics.svg"):
            refused = other.get(path)
            assert refused.status_code == 404, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert tenant.namespace not in refused.text
