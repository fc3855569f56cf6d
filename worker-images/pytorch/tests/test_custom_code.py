"""examples/custom-code/train.py, as it is: trains, and its TorchScript model predicts."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import bad_input_message, run_offline

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "custom-code"


def test_the_example_script_trains_and_its_model_predicts(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "framework": "pytorch",
        "code": {"configMap": "custom-code", "entrypoint": "train.py", "args": ["--epochs", "4"]},
    }
    code, status = run_offline(spec, tmp_path / "train", AIJOB_CODE_DIR=str(EXAMPLE))
    assert code == 0, (tmp_path / "train" / "termination-log").read_text()
    results = status["results"]
    assert results["metrics"]["accuracy"] >= 0.9
    assert results["metrics"]["epochs"] == 4
    assert status["checkpoint"]["epoch"] == 4
    names = {artifact["name"] for artifact in results["artifacts"]}
    assert names == {"model/aijob-model.json", "model/model.pt", "outputs/summary.json"}

    inference = {
        "task": "inference",
        "model": {"type": "torchscript", "source": {"uri": results["modelUri"]}},
        "input": {
            "records": [
                [2.1, 0.2, -0.1, 1.0],
                {"x1": -2.0, "x2": 1.2, "x3": 0.1, "x4": 0.0},
                [0.1, -2.2, 1.9, -1.1],
            ]
        },
    }
    code, status = run_offline(inference, tmp_path / "predict")
    assert code == 0, (tmp_path / "predict" / "termination-log").read_text()
    outputs = status["results"]["outputs"]
    assert [output["prediction"] for output in outputs] == ["red", "green", "blue"]
    assert set(outputs[0]["probabilities"]) == {"red", "green", "blue"}


def test_a_torchscript_model_is_not_trained_by_aijob(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "model": {"type": "torchscript"},
        "dataset": {"name": "iris"},
    }
    message = bad_input_message(spec, tmp_path)
    assert message.startswith("bad input: spec.model.type: torchscript models are trained by")
