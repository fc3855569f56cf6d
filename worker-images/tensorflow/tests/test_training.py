"""Keras models train for real on the bundled data, above a stated floor, and infer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_offline

CASES = [
    # model type, data set, hyperparameters, accuracy floor on held-out data
    ("keras_dense", "iris", {"epochs": 40, "learningRate": 0.01, "batchSize": 16}, 0.90),
    ("keras_dense", "breast_cancer", {"epochs": 15, "learningRate": 0.005}, 0.93),
    ("keras_cnn", "digits", {"epochs": 8, "learningRate": 0.005}, 0.93),
]


@pytest.mark.parametrize(("model_type", "dataset", "hyperparameters", "floor"), CASES)
def test_trains_above_the_floor(
    tmp_path: Path, model_type: str, dataset: str, hyperparameters: dict[str, Any], floor: float
) -> None:
    spec = {
        "task": "training",
        "model": {"type": model_type, "hyperparameters": {**hyperparameters, "seed": 5}},
        "dataset": {"name": dataset},
    }
    code, status = run_offline(spec, tmp_path)
    assert code == 0, (tmp_path / "termination-log").read_text()
    results = status["results"]
    assert results["metrics"]["accuracy"] >= floor
    assert results["device"] == "cpu"
    assert "model/model.keras" in {artifact["name"] for artifact in results["artifacts"]}
    progress = status["progress"]
    assert progress["epoch"] == hyperparameters["epochs"]
    assert progress["percent"] == 100
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(progress["metrics"])


def test_a_trained_model_serves_inference(tmp_path: Path) -> None:
    train = {
        "task": "training",
        "model": {
            "type": "keras_dense",
            "hyperparameters": {"epochs": 40, "learningRate": 0.01, "batchSize": 16, "seed": 1},
        },
        "dataset": {"name": "iris"},
    }
    code, status = run_offline(train, tmp_path / "train")
    assert code == 0
    infer = {
        "task": "inference",
        "model": {"type": "keras_dense", "source": {"trainingJob": "train"}},
        "input": {"records": [[5.1, 3.5, 1.4, 0.2], [6.9, 3.1, 5.4, 2.1]], "batchSize": 1},
    }
    code, status = run_offline(
        infer, tmp_path / "infer", AIJOB_MODEL_URI=status["results"]["modelUri"]
    )
    assert code == 0
    results = status["results"]
    assert [output["prediction"] for output in results["outputs"]] == ["setosa", "virginica"]
    assert set(results["timings"]) == {"prepareMs", "inferMs", "uploadMs"}


def test_a_cnn_needs_square_images(tmp_path: Path) -> None:
    spec = {"task": "training", "model": {"type": "keras_cnn"}, "dataset": {"name": "wine"}}
    code, _ = run_offline(spec, tmp_path)
    assert code == 65
    assert "13 features are not a perfect square" in (tmp_path / "termination-log").read_text()
