"""Fine-tuning a Keras model from a saved `.keras` file (`spec.model.pretrained`, format keras);
files that are not a Keras model, or do not fit the data, are bad input naming the uri."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_offline

TRAINED = {"epochs": 40, "learningRate": 0.01, "batchSize": 16, "seed": 5}
FROZEN = {"epochs": 1, "learningRate": 1e-7, "batchSize": 16, "seed": 5}
"""One epoch that barely moves the weights: the accuracy is the starting weights'."""


def job(dataset: str, pretrained: dict[str, Any] | None) -> dict[str, Any]:
    model: dict[str, Any] = {"type": "keras_dense", "hyperparameters": FROZEN}
    if pretrained is not None:
        model["pretrained"] = pretrained
    return {"task": "training", "model": model, "dataset": {"name": dataset}}


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained iris model's `.keras` file."""
    workdir = tmp_path_factory.mktemp("dense")
    spec = {
        "task": "training",
        "model": {"type": "keras_dense", "hyperparameters": TRAINED},
        "dataset": {"name": "iris"},
    }
    code, status = run_offline(spec, workdir)
    assert code == 0, (workdir / "termination-log").read_text()
    return Path(status["results"]["modelUri"].removeprefix("file://")) / "model.keras"


def test_a_keras_model_is_the_starting_point(tmp_path: Path, iris_model: Path) -> None:
    code, scratch = run_offline(job("iris", None), tmp_path / "scratch")
    assert code == 0
    pretrained = {"uri": f"file://{iris_model}", "format": "keras"}
    code, tuned = run_offline(job("iris", pretrained), tmp_path / "tuned")
    assert code == 0, (tmp_path / "tuned" / "termination-log").read_text()
    assert scratch["results"]["metrics"]["accuracy"] < 0.8
    assert tuned["results"]["metrics"]["accuracy"] >= 0.9
    assert "model/model.keras" in {item["name"] for item in tuned["results"]["artifacts"]}


def test_what_is_not_a_fitting_keras_model_is_bad_input(tmp_path: Path, iris_model: Path) -> None:
    def message(dataset: str, pretrained: dict[str, Any], name: str) -> str:
        code, _ = run_offline(job(dataset, pretrained), tmp_path / name)
        assert code == 65
        return (tmp_path / name / "termination-log").read_text()

    (tmp_path / "notes.keras").write_text("not a model")
    garbage = message("iris", {"uri": f"file://{tmp_path}/notes.keras", "format": "keras"}, "g")
    assert "spec.model.pretrained.uri: " in garbage
    assert "is not a keras model file" in garbage
    misfit = message("digits", {"uri": f"file://{iris_model}", "format": "keras"}, "m")
    assert "spec.model.pretrained.uri: " in misfit
    assert "does not fit the data: the model maps 4 features to 3 outputs" in misfit
    wrong = message("iris", {"uri": f"file://{iris_model}", "format": "state_dict"}, "w")
    assert "spec.model.pretrained.format: model type keras_dense cannot be fine-tuned" in wrong
    assert "(it takes: keras)" in wrong
