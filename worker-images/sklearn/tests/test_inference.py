"""Inference with a model this image trained: inline records, files, batches, big inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_offline

IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def inference_spec(**input_spec: Any) -> dict[str, Any]:
    return {
        "task": "inference",
        "model": {"type": "random_forest", "source": {"trainingJob": "train-iris"}},
        "input": input_spec,
    }


def test_inline_records_in_batches(tmp_path: Path, iris_model: str) -> None:
    records = [
        [5.1, 3.5, 1.4, 0.2],
        {"features": [6.9, 3.1, 5.4, 2.1]},
        dict(zip(IRIS_FEATURES, [5.9, 2.8, 4.3, 1.3], strict=True)),
    ]
    spec = inference_spec(records=records, batchSize=2)
    code, status = run_offline(spec, tmp_path, AIJOB_MODEL_URI=iris_model)
    assert code == 0
    results = status["results"]
    predictions = [output["prediction"] for output in results["outputs"]]
    assert predictions == ["setosa", "virginica", "versicolor"]
    assert all(0 < output["confidence"] <= 1 for output in results["outputs"])
    assert set(results["outputs"][0]["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert set(results["timings"]) == {"prepareMs", "inferMs", "uploadMs"}
    assert results["modelUri"] == iris_model
    assert status["progress"]["step"] == 3


def test_a_large_csv_input_goes_to_a_file(tmp_path: Path, iris_model: str) -> None:
    rows = [",".join(IRIS_FEATURES)] + ["6.3,3.3,6.0,2.5"] * 250
    (tmp_path / "input.csv").write_text("\n".join(rows))
    spec = inference_spec(uri=f"file://{tmp_path}/input.csv", batchSize=64)
    code, status = run_offline(spec, tmp_path / "job", AIJOB_MODEL_URI=iris_model)
    assert code == 0
    results = status["results"]
    assert "outputs" not in results
    lines = Path(results["outputUri"].removeprefix("file://")).read_text().splitlines()
    assert len(lines) == 250
    assert {json.loads(line)["prediction"] for line in lines} == {"virginica"}
    assert results["metrics"]["records"] == 250


def test_the_spec_uri_is_used_without_the_operator(tmp_path: Path, iris_model: str) -> None:
    spec = {
        "task": "inference",
        "model": {"type": "random_forest", "source": {"uri": iris_model}},
        "input": {"records": [[5.0, 3.4, 1.5, 0.2]]},
    }
    code, status = run_offline(spec, tmp_path)
    assert code == 0
    assert status["results"]["outputs"][0]["prediction"] == "setosa"


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([[1, 2, 3]], "spec.input.records[0]: has 3 values; the model was trained on 4"),
        ([[1, 2, 3, 4], {"petal": 1}], "spec.input.records[1]: missing feature(s)"),
    ],
)
def test_records_that_do_not_fit_the_model_are_bad_input(
    tmp_path: Path, iris_model: str, records: list[Any], message: str
) -> None:
    code, _ = run_offline(inference_spec(records=records), tmp_path, AIJOB_MODEL_URI=iris_model)
    assert code == 65
    assert message in (tmp_path / "termination-log").read_text()


def test_a_model_of_another_type_is_refused(tmp_path: Path, iris_model: str) -> None:
    spec = {
        "task": "inference",
        "model": {"type": "svm", "source": {"uri": iris_model}},
        "input": {"records": [[1, 2, 3, 4]]},
    }
    code, _ = run_offline(spec, tmp_path)
    assert code == 65
    assert "spec.model.type: 'svm' does not match" in (tmp_path / "termination-log").read_text()


def test_a_loaded_forest_predicts_on_the_calling_thread(iris_model: str) -> None:
    """Trained with n_jobs=-1; loaded for inference or serving it predicts single-threaded."""
    from urllib.parse import urlparse

    from aijob_worker_sklearn.random_forest import RandomForestRunner

    model_dir = Path(urlparse(iris_model).path)
    metadata = json.loads((model_dir / "aijob-model.json").read_text())
    runner = RandomForestRunner("random_forest")
    runner.load(model_dir, metadata["metadata"])
    forest = runner.model.steps[-1][1]
    assert forest.get_params()["n_jobs"] == 1
