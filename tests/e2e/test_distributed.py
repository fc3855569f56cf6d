"""Distributed training on the real node: examples/custom-code/ddp-train.yaml as it is.

Two pods (an Indexed Job, gloo on CPU, rendezvous through rank 0's Service) run the DDP
script under torchrun. Both ranks take part (each rank's progress in `status.ranks`),
the loss falls, rank 0's checkpoints and model are the job's. Rank 1's pod is deleted
mid-run: the operator restarts the whole group, which resumes from rank 0's last
checkpoint and finishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aijob_api.constants import LABEL_JOB_NAME
from lightkube import Client

from tests.e2e.conftest import Release
from tests.e2e.jobs import wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob
from tests.support.kubectl import kubectl
from tests.support.real_node import has_image, ready_real_nodes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom-code"
CONFIG_MAP = "ddp-code"
JOB = "ddp-train"
EPOCHS = 8
IMAGE = "aijob/worker-pytorch:0.1.0"
KILL_AFTER_EPOCH = 2
"""Rank 1's pod is deleted once rank 0's checkpoint and both ranks reached this epoch."""
COMPLETION_INDEX_LABEL = "batch.kubernetes.io/job-completion-index"


def _clean(tenant: str) -> None:
    kubectl("-n", tenant, "delete", "aijob", JOB, "--ignore-not-found", "--wait=true")
    kubectl("-n", tenant, "delete", "configmap", CONFIG_MAP, "--ignore-not-found")


@pytest.fixture
def ddp_tenant(release: Release) -> Iterator[str]:
    """The release's tenant namespace, without this test's objects before and after."""
    _clean(release.tenant)
    yield release.tenant
    _clean(release.tenant)


def _rank_pod(tenant: str, rank: int) -> str:
    """The running pod of node rank `rank`."""
    found = kubectl(
        "-n", tenant, "get", "pods",
        "-l", f"{LABEL_JOB_NAME}={JOB},{COMPLETION_INDEX_LABEL}={rank}",
        "--field-selector=status.phase=Running",
        "-o", "jsonpath={.items[*].metadata.name}",
    ).stdout.split()  # fmt: skip
    assert len(found) == 1, found
    return found[0]


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


def test_one_rank_killed_mid_run_restarts_the_group_which_resumes_and_finishes(
    ddp_tenant: str, kube: Client
) -> None:
    tenant = ddp_tenant
    assert has_image(ready_real_nodes(kube)[0], IMAGE), f"{IMAGE} is not on the real node"
    _apply_example(tenant)

    def both_ranks_checkpointed() -> dict[str, Any]:
        status: dict[str, Any] = get_aijob(kube, tenant, JOB).get("status") or {}
        if status.get("phase") in {"Succeeded", "Failed", "Cancelled"}:
            raise RuntimeError(f"{JOB} ended before a pod was deleted: {status}")
        assert status.get("phase") == "Running", status.get("phase")
        ranks = status.get("ranks") or {}
        assert set(ranks) == {"0", "1"}, ranks
        for entry in ranks.values():
            assert entry.get("epoch", 0) >= KILL_AFTER_EPOCH, ranks
        assert (status.get("checkpoint") or {}).get("epoch", 0) >= KILL_AFTER_EPOCH, status
        return status

    eventually(both_ranks_checkpointed, timeout=Timeout.REAL_TRAINING, what="2 ranks")
    kubectl("-n", tenant, "delete", "pod", _rank_pod(tenant, 1), "--wait=false")

    trained = wait_for_phase(kube, tenant, JOB, "Succeeded", Timeout.REAL_TRAINING)
    status = trained["status"]
    group = status["group"]
    assert group["restarts"] + group["disruptions"] >= 1, group  # the pair restarted together
    metrics = _check_trained(status)
    assert metrics["resumedFromEpoch"] >= KILL_AFTER_EPOCH, metrics  # from rank 0's checkpoint
    assert metrics["epochsThisAttempt"] == EPOCHS - metrics["resumedFromEpoch"]
