"""Jobs through the chart's gateway and operator: scikit-learn training and inference on
the real node, bad input failing at once, retries on the simulated GPU nodes,
cancellation. The other frameworks: tests/e2e/test_frameworks.py."""

from __future__ import annotations

import json

import httpx
from lightkube import Client
from lightkube.resources.core_v1 import Pod

from tests.e2e.conftest import Release
from tests.e2e.jobs import simulated_gpu_job, sklearn_training, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually

IRIS_CLASSES = {"setosa", "versicolor", "virginica"}


def test_sklearn_trains_then_predicts_on_the_real_node(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    name = unique("iris")
    submit(api, name, sklearn_training())
    trained = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    assert trained["status"]["nodeName"] == "aijob-node-0"
    assert trained["status"]["results"]["metrics"]["accuracy"] > 0.8
    assert trained["status"]["results"]["modelUri"].endswith(f"/{name}/model")
    # The worker's own log, read by the chart's gateway (its RBAC: pods/log) from the pod.
    log = api.get(f"/v1/jobs/{name}/logs")
    assert log.status_code == 200, log.text
    records = [json.loads(line) for line in log.text.splitlines() if line.startswith("{")]
    assert records, log.text
    assert {record["logger"] for record in records} >= {"aijob_worker.job"}, log.text

    predict = unique("iris-predict")
    records = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    submit(
        api,
        predict,
        {
            "task": "inference",
            "model": {"type": "random_forest", "source": {"trainingJob": name}},
            "input": {"records": records},
            "resources": {"cpu": "250m", "memory": "256Mi"},
        },
    )
    wait_for_phase(kube, release.tenant, predict, "Succeeded", Timeout.REAL_TRAINING)
    results = api.get(f"/v1/jobs/{predict}").json()["status"]["results"]
    predictions = [output["prediction"] for output in results["outputs"]]
    assert len(predictions) == len(records)
    assert set(predictions) <= IRIS_CLASSES
    assert predictions[0] == "setosa"
    assert {"prepareMs", "inferMs"} <= set(results["timings"])


def test_bad_hyperparameter_fails_once_with_exit_code_65(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    name = unique("typo")
    submit(api, name, sklearn_training(nEstimatorz=10))
    failed = wait_for_phase(kube, release.tenant, name, "Failed", Timeout.REAL_TRAINING)
    status = failed["status"]
    assert status["exitCode"] == 65
    assert status["attempts"] == 1, "bad input must never be retried"
    assert "nEstimatorz" in status["message"]


def test_failing_gpu_job_is_retried_then_failed_with_its_exit_code(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    name = unique("crash")
    spec = simulated_gpu_job({"aijob.dev/fake-exit-code": "3"}, retryPolicy={"maxRetries": 1})
    submit(api, name, spec)
    failed = wait_for_phase(kube, release.tenant, name, "Failed", Timeout.SIMULATED_JOB)
    status = failed["status"]
    assert status["exitCode"] == 3
    assert status["attempts"] == 2
    assert status["nodeName"].startswith("kwok-gpu-")


def test_cancel_mid_run_stops_the_pod(release: Release, api: httpx.Client, kube: Client) -> None:
    name = unique("cancel")
    submit(api, name, simulated_gpu_job({"aijob.dev/fake-run-seconds": "300"}))
    wait_for_phase(kube, release.tenant, name, "Running", Timeout.SIMULATED_JOB)
    response = api.delete(f"/v1/jobs/{name}")
    assert response.status_code == 202, response.text
    wait_for_phase(kube, release.tenant, name, "Cancelled", Timeout.SIMULATED_JOB)

    def pods_gone() -> bool:
        pods = list(kube.list(Pod, namespace=release.tenant, labels={"job-name": name}))
        assert not pods, f"pods left: {[pod.metadata.name for pod in pods if pod.metadata]}"
        return True

    eventually(pods_gone, timeout=Timeout.SIMULATED_JOB, what=f"{name}'s pods deleted")
