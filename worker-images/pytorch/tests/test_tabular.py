"""mlp and cnn train for real on the bundled data, above a stated floor, and infer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_offline

CASES = [
    # model type, data set, hyperparameters, accuracy floor on held-out data
    ("mlp", "iris", {"epochs": 30, "learningRate": 0.01, "batchSize": 16}, 0.90),
    ("mlp", "digits", {"epochs": 12, "learningRate": 0.003}, 0.94),
    ("cnn", "digits", {"epochs": 8, "learningRate": 0.005}, 0.95),
]


@pytest.mark.parametrize(("model_type", "dataset", "hyperparameters", "floor"), CASES)
def test_trains_above_the_floor(
    tmp_path: Path, model_type: str, dataset: str, hyperparameters: dict[str, Any], floor: float
) -> None:
    spec = {
        "task": "training",
        "model": {"type": model_type, "hyperparameters": {**hyperparameters, "seed": 4}},
        "dataset": {"name": dataset},
    }
    code, status = run_offline(spec, tmp_path)
    assert code == 0, (tmp_path / "termination-log").read_text()
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


def test_a_trained_cnn_serves_inference(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    train = {
        "task": "training",
        "model": {"type": "cnn", "hyperparameters": {"epochs": 6, "learningRate": 0.005}},
        "dataset": {"name": "digits"},
    }
    code, status = run_offline(train, tmp_path / "train")
    assert code == 0
    digits = load_digits()
    records = [row.tolist() for row in digits.data[:40]]
    infer = {
        "task": "inference",
        "model": {"type": "cnn", "source": {"trainingJob": "train"}},
        "input": {"records": records, "batchSize": 16},
    }
    code, status = run_offline(
        infer, tmp_path / "infer", AIJOB_MODEL_URI=status["results"]["modelUri"]
    )
    assert code == 0
    predicted = [int(output["prediction"]) for output in status["results"]["outputs"]]
    correct = sum(p == t for p, t in zip(predicted, digits.target[:40], strict=True))
    assert correct >= 36
    assert set(status["results"]["timings"]) == {"prepareMs", "inferMs", "uploadMs"}
