"""Distributed training on the real node: examples/custom-code/ddp-train.yaml as it is.

Two pods (an Indexed Job, gloo on CPU, rendezvous through rank 0's Service) run the DDP
script under torchrun. Both ranks take part (each rank's progress in `status.ranks`),
the loss falls, rank 0's checkpoints and model are the job's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client

from tests.e2e.conftest import Release
from tests.e2e.jobs import wait_for_phase
from tests.support.eventually import Timeout
from tests.support.kubectl import kubectl
from tests.support.real_node import has_image, ready_real_nodes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom-code"
CONFIG_MAP = "ddp-code"
JOB = "ddp-train"
EPOCHS = 8
IMAGE = "aijob/worker-pytorch:0.1.0"


def _clean(tenant: str) -> None:
    kubectl("-n", tenant, "delete", "aijob", JOB, "--ignore-not-found", "--wait=true")
    kubectl("-n", tenant, "delete", "configmap", CONFIG_MAP, "--ignore-not-found")


@pytest.fixture
def ddp_tenant(release: Release) -> Iterator[str]:
    """The release's tenant namespace, without this test's objects before and after."""
    _clean(release.tenant)
    yield release.tenant
    _clean(release.tenant)


def _apply_example(tenant: str) -> None:
    kubectl(
        "-n", tenant, "create", "configmap", CONFIG_MAP,
        f"--from-file={EXAMPLE / 'ddp-train.py'}",
    )  # fmt: skip
    kubectl("-n", tenant, "apply", "-f", str(EXAMPLE / "ddp-train.yaml"))


def _check_trained(status: dict[str, Any]) -> dict[str, float]:
    """Both ranks reached the last epoch, the loss fell, rank 0's model is the job's."""
    ranks = status["ranks"]
    assert set(ranks) == {"0", "1"}  # both ranks took part, each in its own entry
    assert all(entry["epoch"] == EPOCHS for entry in ranks.values()), ranks
    for entry in ranks.values():
        assert entry["metrics"]["rank_samples"] == 2000  # each rank trained on its half
        assert entry["metrics"]["samples"] == 4000
    metrics: dict[str, float] = status["results"]["metrics"]
    assert metrics["epochs"] == EPOCHS
    assert metrics["accuracy"] >= 0.8, metrics
    loss = next(s for s in status["metricHistory"]["series"] if s["name"] == "loss")
    assert loss["x"][-1] == EPOCHS  # one point per epoch (across attempts)
    assert loss["values"][-1] < loss["values"][0] * 0.8, loss  # the loss falls
    assert status["results"]["modelUri"].endswith(f"/{JOB}/model")  # rank 0's model, once
    names = {artifact["name"] for artifact in status["results"]["artifacts"]}
    assert names == {"model/model.pt", "model/aijob-model.json"}
    return metrics


def test_two_pods_train_with_ddp_and_rank_0_saves_the_model(ddp_tenant: str, kube: Client) -> None:
    tenant = ddp_tenant
    assert has_image(ready_real_nodes(kube)[0], IMAGE), f"{IMAGE} is not on the real node"
    _apply_example(tenant)
    trained = wait_for_phase(kube, tenant, JOB, "Succeeded", Timeout.REAL_TRAINING)
    status = trained["status"]
    metrics = _check_trained(status)
    assert "resumedFromEpoch" not in metrics
    assert status["group"]["restarts"] == 0
    assert status["progress"]["percent"] == 100
