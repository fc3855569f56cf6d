"""Fine-tuning on the real node: a PyTorch job starts from the weights another job saved in
the tenant's store (`spec.model.pretrained`, format `state_dict`), checked against that
job's manifest, and keeps their accuracy where random weights at the same tiny learning
rate would not; its own model is saved and predicts like any other."""

from __future__ import annotations

from typing import Any

import httpx
from lightkube import Client

from tests.e2e.conftest import Release
from tests.e2e.jobs import submit, unique, wait_for_phase
from tests.support.eventually import Timeout

FINE_TUNING_RATE = 1e-7
"""So small that one epoch cannot move random weights anywhere near the floor."""
FLOOR = 0.9


def _mlp(epochs: int, learning_rate: float, **model: Any) -> dict[str, Any]:
    return {
        "task": "training",
        "model": {
            "type": "mlp",
            "hyperparameters": {
                "epochs": epochs, "learningRate": learning_rate, "batchSize": 64, "seed": 7,
            },
            **model,
        },
        "dataset": {"name": "digits"},
        "resources": {"cpu": "1", "memory": "2Gi"},
        "retryPolicy": {"maxRetries": 1},
    }  # fmt: skip


def test_a_job_fine_tunes_the_weights_another_job_saved(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    tenant = release.tenant
    base = unique("finetune-base")
    submit(api, base, _mlp(10, 0.01))
    trained = wait_for_phase(kube, tenant, base, "Succeeded", Timeout.REAL_TRAINING)
    base_results = trained["status"]["results"]
    assert base_results["metrics"]["accuracy"] >= FLOOR, base_results["metrics"]

    tuned, control = unique("finetune"), unique("finetune-control")
    pretrained = {"uri": f"{base_results['modelUri']}/model.pt", "format": "state_dict"}
    submit(api, tuned, _mlp(1, FINE_TUNING_RATE, pretrained=pretrained))
    submit(api, control, _mlp(1, FINE_TUNING_RATE))
    finished = wait_for_phase(kube, tenant, tuned, "Succeeded", Timeout.REAL_TRAINING)
    status = finished["status"]
    assert status["progress"]["percent"] == 100
    results = status["results"]
    assert results["metrics"]["accuracy"] >= FLOOR, results["metrics"]
    # The same job from random weights: the accuracy above came from the pretrained ones.
    alone = wait_for_phase(kube, tenant, control, "Succeeded", Timeout.REAL_TRAINING)
    assert alone["status"]["results"]["metrics"]["accuracy"] < FLOOR / 2
    assert results["modelUri"].endswith(f"/{tuned}/model")
    assert any(item.get("sha256") for item in results["artifacts"]), results["artifacts"]

    response = api.get(f"/v1/jobs/{tuned}/results")
    assert response.status_code == 200, response.text
