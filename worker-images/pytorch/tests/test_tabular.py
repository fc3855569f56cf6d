"""mlp, cnn, resnet, vgg, alexnet train for real on the bundled data, above a floor, and infer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import bad_hyperparameters_message, bad_input_message, run_offline

CASES: dict[tuple[str, str], tuple[dict[str, Any], float]] = {
    # (model type, data set): hyperparameters, accuracy floor on held-out data
    ("mlp", "iris"): ({"epochs": 30, "learningRate": 0.01, "batchSize": 16}, 0.90),
    ("mlp", "digits"): ({"epochs": 12, "learningRate": 0.003}, 0.94),
    ("cnn", "digits"): ({"epochs": 8, "learningRate": 0.005}, 0.95),
    # ResNet-14 (three stages of two residual blocks), narrow: measured 0.96.
    ("resnet", "digits"): ({"epochs": 3, "learningRate": 0.005, "widths": [8, 16, 32]}, 0.93),
    # VGG-BN, three blocks of two 3x3 convolutions: measured 0.95-0.97.
    ("vgg", "digits"): (
        {"epochs": 3, "learningRate": 0.002, "filters": [16, 32, 64], "denseUnits": 64},
        0.90,
    ),
    # AlexNet (no batch norm, so slower to start): measured 0.92-0.96.
    ("alexnet", "digits"): ({"epochs": 6, "learningRate": 0.002, "dropout": 0.2}, 0.85),
}

Trained = Callable[[str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """Train a case once per module (seed 4); its final status."""
    statuses: dict[tuple[str, str], dict[str, Any]] = {}

    def train(model_type: str, dataset: str) -> dict[str, Any]:
        if (model_type, dataset) not in statuses:
            hyperparameters, _ = CASES[model_type, dataset]
            workdir = tmp_path_factory.mktemp(f"{model_type}-{dataset}")
            spec = {
                "task": "training",
                "model": {"type": model_type, "hyperparameters": {**hyperparameters, "seed": 4}},
                "dataset": {"name": dataset},
            }
            code, status = run_offline(spec, workdir)
            assert code == 0, (workdir / "termination-log").read_text()
            statuses[model_type, dataset] = status
        return statuses[model_type, dataset]

    return train


@pytest.mark.parametrize(("model_type", "dataset"), list(CASES))
def test_trains_above_the_floor(trained: Trained, model_type: str, dataset: str) -> None:
    hyperparameters, floor = CASES[model_type, dataset]
    status = trained(model_type, dataset)
    results = status["results"]
    assert results["metrics"]["accuracy"] >= floor
    assert results["device"] == "cpu"
    assert "model/model.pt" in {artifact["name"] for artifact in results["artifacts"]}
    progress = status["progress"]
    assert progress["epoch"] == hyperparameters["epochs"]
    assert progress["percent"] == 100
    assert {"loss", "accuracy", "valLoss"} <= set(progress["metrics"])


def test_the_same_seed_trains_the_same_model(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "model": {"type": "mlp", "hyperparameters": {"epochs": 3, "seed": 9}},
        "dataset": {"name": "wine"},
    }
    first = run_offline(spec, tmp_path / "a")[1]["results"]["metrics"]
    second = run_offline(spec, tmp_path / "b")[1]["results"]["metrics"]
    assert first["accuracy"] == second["accuracy"]


@pytest.mark.parametrize("model_type", ["cnn", "resnet", "vgg", "alexnet"])
def test_a_trained_image_model_serves_inference(
    tmp_path: Path, trained: Trained, model_type: str
) -> None:
    from sklearn.datasets import load_digits

    model_uri = trained(model_type, "digits")["results"]["modelUri"]
    digits = load_digits()
    records = [row.tolist() for row in digits.data[:40]]
    infer = {
        "task": "inference",
        "model": {"type": model_type, "source": {"trainingJob": "train"}},
        "input": {"records": records, "batchSize": 16},
    }
    code, status = run_offline(infer, tmp_path, AIJOB_MODEL_URI=model_uri)
    assert code == 0, (tmp_path / "termination-log").read_text()
    predicted = [int(output["prediction"]) for output in status["results"]["outputs"]]
    correct = sum(p == t for p, t in zip(predicted, digits.target[:40], strict=True))
    _, floor = CASES[model_type, "digits"]
    assert correct >= floor * len(records)
    assert set(status["results"]["timings"]) == {"prepareMs", "inferMs", "uploadMs"}


@pytest.mark.parametrize(
    ("model_type", "hyperparameters", "message"),
    [
        ("resnet", {"widths": []}, "widths: List should have at least 1 item"),
        ("resnet", {"blocksPerStage": 0}, "blocksPerStage: Input should be greater than or equal"),
        ("vgg", {"convsPerBlock": 5}, "convsPerBlock: Input should be less than or equal to 4"),
        ("vgg", {"kernelSize": 5}, "kernelSize: not a hyperparameter of this model type"),
        ("alexnet", {"filters": [8, 8, 8, 8]}, "filters: List should have at least 5 items"),
        ("alexnet", {"firstKernelSize": 4}, "firstKernelSize: Value error, 4 is even"),
        ("alexnet", {"dropout": 1}, "dropout: Input should be less than 1"),
    ],
)
def test_bad_hyperparameters_are_bad_input_naming_the_field(
    tmp_path: Path, model_type: str, hyperparameters: dict[str, Any], message: str
) -> None:
    found = bad_hyperparameters_message(model_type, hyperparameters, "digits", tmp_path)
    assert f"spec.model.hyperparameters.{message}" in found


@pytest.mark.parametrize("model_type", ["cnn", "resnet", "vgg", "alexnet"])
def test_an_image_model_needs_square_images(tmp_path: Path, model_type: str) -> None:
    spec = {"task": "training", "model": {"type": model_type}, "dataset": {"name": "wine"}}
    assert "13 features are not a perfect square" in bad_input_message(spec, tmp_path)


@pytest.mark.parametrize("model_type", ["resnet", "vgg"])
def test_a_batch_norm_network_resumes_from_its_checkpoint(tmp_path: Path, model_type: str) -> None:
    hyperparameters, floor = CASES[model_type, "digits"]
    epochs = hyperparameters["epochs"]

    def attempt(**changes: int) -> dict[str, Any]:
        spec = {
            "task": "training",
            "model": {"type": model_type, "hyperparameters": {**hyperparameters, **changes}},
            "dataset": {"name": "digits"},
        }
        code, status = run_offline(spec, tmp_path)
        assert code == 0, (tmp_path / "termination-log").read_text()
        return status

    # A checkpoint after epoch 1 (none after the last), then an attempt that resumes from it.
    assert attempt(epochs=2, checkpointEveryEpochs=1)["checkpoint"]["epoch"] == 1
    metrics = attempt()["results"]["metrics"]
    assert metrics["resumedFromEpoch"] == 1
    assert metrics["epochsThisAttempt"] == epochs - 1
    assert metrics["accuracy"] >= floor
