"""Your own training code on the real node: examples/custom-code as the docs show it.

The script (examples/custom-code/train.py) goes into a ConfigMap the way the docs make it
(`kubectl create configmap --from-file`), train.yaml and predict.yaml are applied exactly.
The script trains a PyTorch classifier, reports every epoch and checkpoints after each;
its pod is deleted mid-run, and the next attempt resumes from the last checkpoint; its
TorchScript model is then batch-predicted by the inference job.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client

from tests.e2e.conftest import Release
from tests.e2e.jobs import wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob
from tests.support.kubectl import kubectl
from tests.support.real_node import has_image, ready_real_nodes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom-code"
CONFIG_MAP = "custom-code"
TRAIN, PREDICT = "custom-train", "custom-predict"
IMAGE = "aijob/worker-pytorch:0.1.0"
KILL_AFTER_EPOCH = 2
"""The pod is deleted once the status names a checkpoint of at least this epoch."""


def _clean(tenant: str) -> None:
    kubectl("-n", tenant, "delete", "aijob", TRAIN, PREDICT, "--ignore-not-found", "--wait=true")
    kubectl("-n", tenant, "delete", "configmap", CONFIG_MAP, "--ignore-not-found")


@pytest.fixture
def code_tenant(release: Release) -> Iterator[str]:
    """The release's tenant namespace, without this test's objects before and after."""
    _clean(release.tenant)
    yield release.tenant
    _clean(release.tenant)


def test_own_script_trains_resumes_after_its_pod_is_killed_and_its_model_predicts(
    code_tenant: str, kube: Client
) -> None:
    tenant = code_tenant
    assert has_image(ready_real_nodes(kube)[0], IMAGE), f"{IMAGE} is not on the real node"
    kubectl(
        "-n", tenant, "create", "configmap", CONFIG_MAP,
        f"--from-file={EXAMPLE / 'train.py'}",
    )  # fmt: skip
    kubectl("-n", tenant, "apply", "-f", str(EXAMPLE / "train.yaml"))

    def checkpointed() -> dict[str, Any]:
        status: dict[str, Any] = get_aijob(kube, tenant, TRAIN).get("status") or {}
        if status.get("phase") in {"Succeeded", "Failed", "Cancelled"}:
            raise RuntimeError(f"{TRAIN} ended before its pod was deleted: {status}")
        assert status.get("phase") == "Running", status.get("phase")
        assert (status.get("checkpoint") or {}).get("epoch", 0) >= KILL_AFTER_EPOCH, status
        assert (status.get("progress") or {}).get("epoch", 0) >= KILL_AFTER_EPOCH, status
        return status

    before = eventually(checkpointed, timeout=Timeout.REAL_TRAINING, what="a checkpoint")
    first_pod = before["podName"]
    kubectl("-n", tenant, "delete", "pod", first_pod, "--wait=false")

    trained = wait_for_phase(kube, tenant, TRAIN, "Succeeded", Timeout.REAL_TRAINING)
    status = trained["status"]
    assert status["podName"] != first_pod
    metrics = status["results"]["metrics"]
    assert metrics["resumedFromEpoch"] >= KILL_AFTER_EPOCH, metrics
    assert metrics["epochs"] == 8
    assert metrics["epochsThisAttempt"] == 8 - metrics["resumedFromEpoch"]
    assert metrics["accuracy"] >= 0.9, metrics
    assert status["progress"]["percent"] == 100
    assert status["progress"]["epoch"] == 8
    loss = next(s for s in status["metricHistory"]["series"] if s["name"] == "loss")
    assert loss["x"][-1] == 8  # one point per epoch, across both attempts
    assert status["results"]["modelUri"].endswith(f"/{TRAIN}/model")
    names = {artifact["name"] for artifact in status["results"]["artifacts"]}
    assert {"model/model.pt", "model/aijob-model.json", "outputs/summary.json"} <= names

    kubectl("-n", tenant, "apply", "-f", str(EXAMPLE / "predict.yaml"))
    predicted = wait_for_phase(kube, tenant, PREDICT, "Succeeded", Timeout.REAL_TRAINING)
    outputs = predicted["status"]["results"]["outputs"]
    assert [output["prediction"] for output in outputs] == ["red", "green", "blue"]
