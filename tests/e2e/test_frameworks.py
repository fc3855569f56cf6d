"""Every framework image trains and then serves its model for real on the real node.

The examples/ files are applied exactly as the docs show them (`kubectl apply -f`), in
the release's tenant namespace: a training job and the inference job that waits for it.
scikit-learn's round trip goes through the gateway instead (tests/e2e/test_jobs.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from lightkube import Client

from tests.e2e.conftest import Release
from tests.e2e.jobs import wait_for_phase
from tests.support.eventually import Timeout
from tests.support.kubectl import kubectl
from tests.support.real_node import has_image, ready_real_nodes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REAL_NODE = "aijob-node-0"

# training example, inference example, image, framework, held-out accuracy floor,
# the predictions the inference example's records must get (None: any class).
CASES = [
    pytest.param(
        "train-pytorch.yaml", "inference-pytorch.yaml", "aijob/worker-pytorch:0.1.0",
        "pytorch", 0.9, ["0", "1"], id="pytorch-mlp",
    ),
    pytest.param(
        "train-tensorflow.yaml", "inference-tensorflow.yaml", "aijob/worker-tensorflow:0.1.0",
        "tensorflow", 0.9, ["0", "1"], id="tensorflow-keras-cnn",
    ),
    pytest.param(
        "train-text.yaml", "inference-text.yaml", "aijob/worker-pytorch:0.1.0",
        "transformers", 0.85, ["positive", "negative", None], id="transformers-distilbert",
    ),
]  # fmt: skip


def _name(example: str) -> str:
    manifest: dict[str, Any] = yaml.safe_load((EXAMPLES / example).read_text())
    return str(manifest["metadata"]["name"])


@pytest.mark.parametrize(
    ("training", "inference", "image", "framework", "floor", "expected"), CASES
)
def test_the_example_trains_then_its_model_predicts_on_the_real_node(
    release: Release,
    api: httpx.Client,
    kube: Client,
    training: str,
    inference: str,
    image: str,
    framework: str,
    floor: float,
    expected: list[str | None],
) -> None:
    if not has_image(ready_real_nodes(kube)[0], image):
        pytest.skip(f"{image} is not imported into the real node (make images)")
    for example in (training, inference):
        kubectl("-n", release.tenant, "apply", "-f", str(EXAMPLES / example))
    trained_name, predict_name = _name(training), _name(inference)

    trained = wait_for_phase(kube, release.tenant, trained_name, "Succeeded", Timeout.REAL_TRAINING)
    status = trained["status"]
    assert status["framework"] == framework
    assert status["nodeName"] == REAL_NODE
    assert status["results"]["device"] == "cpu"
    assert status["results"]["metrics"]["accuracy"] >= floor, status["results"]["metrics"]
    assert status["progress"]["percent"] == 100
    assert status["results"]["modelUri"].endswith(f"/{trained_name}/model")

    predicted = wait_for_phase(
        kube, release.tenant, predict_name, "Succeeded", Timeout.REAL_TRAINING
    )
    assert predicted["status"]["nodeName"] == REAL_NODE
    # Through the gateway, as a client reads them.
    response = api.get(f"/v1/jobs/{predict_name}/results")
    assert response.status_code == 200, response.text
    predictions = [output["prediction"] for output in response.json()["results"]["outputs"]]
    assert len(predictions) == len(expected)
    for got, want in zip(predictions, expected, strict=True):
        if want is not None:
            assert got == want, predictions
