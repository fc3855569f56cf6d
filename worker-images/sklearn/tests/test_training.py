"""Every scikit-learn model trains for real on the bundled data, above a stated floor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_offline

CASES = [
    # model type, data set, hyperparameters, accuracy floor on held-out data
    ("random_forest", "iris", {"nEstimators": 60, "epochs": 3}, 0.90),
    ("random_forest", "digits", {"nEstimators": 60, "epochs": 3}, 0.93),
    ("svm", "breast_cancer", {"C": 1.0}, 0.94),
    ("svm", "digits", {"kernel": "rbf"}, 0.95),
    ("logistic_regression", "wine", {"epochs": 4, "maxIter": 200}, 0.92),
    ("logistic_regression", "digits", {"epochs": 4, "maxIter": 300}, 0.93),
    ("gradient_boosting", "wine", {"nEstimators": 40, "epochs": 4}, 0.85),
    ("gradient_boosting", "breast_cancer", {"nEstimators": 40, "epochs": 2}, 0.92),
]


@pytest.mark.parametrize(("model_type", "dataset", "hyperparameters", "floor"), CASES)
def test_trains_above_the_floor(
    tmp_path: Path, model_type: str, dataset: str, hyperparameters: dict[str, Any], floor: float
) -> None:
    spec = {
        "task": "training",
        "model": {"type": model_type, "hyperparameters": {**hyperparameters, "seed": 7}},
        "dataset": {"name": dataset},
    }
    code, status = run_offline(spec, tmp_path)
    assert code == 0, (tmp_path / "termination-log").read_text()
    results = status["results"]
    assert results["metrics"]["accuracy"] >= floor
    assert results["device"] == "cpu"
    assert "model/model.joblib" in {artifact["name"] for artifact in results["artifacts"]}
    stages = hyperparameters.get("epochs", 1)
    assert status["progress"]["epoch"] == stages
    assert status["progress"]["percent"] == 100


def test_trains_on_a_csv_with_word_labels(tmp_path: Path) -> None:
    rows = ["size,weight,colour_code,fruit"]
    for index in range(120):
        apple = index % 2 == 0
        size = 7 + (index % 5) * 0.1 if apple else 12 + (index % 7) * 0.1
        rows.append(f"{size},{size * 20},{index % 3},{'apple' if apple else 'melon'}")
    (tmp_path / "fruit.csv").write_text("\n".join(rows))
    spec = {
        "task": "training",
        "model": {"type": "logistic_regression"},
        "dataset": {"uri": f"file://{tmp_path}/fruit.csv", "targetColumn": "fruit"},
    }
    code, status = run_offline(spec, tmp_path / "job")
    assert code == 0
    assert status["results"]["metrics"]["accuracy"] == 1.0


def test_the_same_seed_gives_the_same_model_quality(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "model": {"type": "random_forest", "hyperparameters": {"nEstimators": 20, "seed": 3}},
        "dataset": {"name": "wine"},
    }
    first = run_offline(spec, tmp_path / "a")[1]["results"]["metrics"]
    second = run_offline(spec, tmp_path / "b")[1]["results"]["metrics"]
    assert first["accuracy"] == second["accuracy"]
