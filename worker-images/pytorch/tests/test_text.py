"""BERT and DistilBERT text classifiers built from a config: train, infer, fine-tune."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_offline


@pytest.fixture(scope="module")
def bert_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, float]]:
    """A small BERT trained on the bundled sentiment set: its URI and metrics."""
    workdir = tmp_path_factory.mktemp("bert")
    spec = {
        "task": "training",
        "model": {"type": "bert", "hyperparameters": {"epochs": 4, "seed": 1}},
        "dataset": {"name": "sentiment"},
    }
    code, status = run_offline(spec, workdir)
    assert code == 0, (workdir / "termination-log").read_text()
    return status["results"]["modelUri"], status["results"]["metrics"]


def test_bert_learns_the_sentiment_set(bert_model: tuple[str, dict[str, float]]) -> None:
    _, metrics = bert_model
    assert metrics["accuracy"] >= 0.9
    assert metrics["epochsThisAttempt"] == 4


def test_distilbert_learns_the_sentiment_set(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "model": {"type": "distilbert", "hyperparameters": {"epochs": 4, "seed": 2}},
        "dataset": {"name": "sentiment"},
    }
    code, status = run_offline(spec, tmp_path)
    assert code == 0, (tmp_path / "termination-log").read_text()
    assert status["results"]["metrics"]["accuracy"] >= 0.9
    progress = status["progress"]
    assert progress["epoch"] == 4
    assert "eval_accuracy" in progress["metrics"]
    names = {artifact["name"] for artifact in status["results"]["artifacts"]}
    assert {"model/model.safetensors", "model/tokenizer.json", "model/config.json"} <= names


def test_the_trained_model_classifies_texts(
    tmp_path: Path, bert_model: tuple[str, dict[str, float]]
) -> None:
    model_uri, _ = bert_model
    spec = {
        "task": "inference",
        "model": {"type": "bert", "source": {"uri": model_uri}},
        "input": {
            "records": [
                "the movie was wonderful and superb",
                {"text": "the service was awful and dreadful"},
                "the food was not terrible and poor overall",
            ],
            "batchSize": 2,
        },
    }
    code, status = run_offline(spec, tmp_path)
    assert code == 0, (tmp_path / "termination-log").read_text()
    predictions = [output["prediction"] for output in status["results"]["outputs"]]
    assert predictions == ["positive", "negative", "positive"]


def test_a_saved_model_directory_is_fine_tuned(
    tmp_path: Path, bert_model: tuple[str, dict[str, float]]
) -> None:
    model_uri, _ = bert_model
    rows = ["text,label"] + [
        f"{text},{label}"
        for text, label in [
            ("the hotel was lovely and pleasant", "good"),
            ("the app was broken and useless", "bad"),
            ("the staff was great and brilliant", "good"),
            ("the game was boring and bland", "bad"),
        ]
        * 20
    ]
    (tmp_path / "reviews.csv").write_text("\n".join(rows))
    spec = {
        "task": "training",
        "model": {"type": "bert", "hyperparameters": {"epochs": 2, "modelDir": model_uri}},
        "dataset": {"uri": f"file://{tmp_path}/reviews.csv"},
    }
    code, status = run_offline(spec, tmp_path / "job")
    assert code == 0, (tmp_path / "job" / "termination-log").read_text()
    assert status["results"]["metrics"]["accuracy"] == 1.0


def test_records_that_are_not_text_are_bad_input(
    tmp_path: Path, bert_model: tuple[str, dict[str, float]]
) -> None:
    model_uri, _ = bert_model
    spec = {
        "task": "inference",
        "model": {"type": "bert", "source": {"uri": model_uri}},
        "input": {"records": ["fine", [1, 2, 3]]},
    }
    code, _ = run_offline(spec, tmp_path)
    assert code == 65
    assert "spec.input.records[1]: expected a string" in (tmp_path / "termination-log").read_text()


def test_inconsistent_sizes_are_bad_input(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "model": {"type": "bert", "hyperparameters": {"hiddenSize": 30, "numHeads": 4}},
        "dataset": {"name": "sentiment"},
    }
    code, _ = run_offline(spec, tmp_path)
    assert code == 65
    assert (
        "spec.model.hyperparameters.hiddenSize: 30 is not a multiple of numHeads (4)"
        in (tmp_path / "termination-log").read_text()
    )
