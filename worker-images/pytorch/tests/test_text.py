"""BERT, DistilBERT and GPT-2 text classifiers built from a config: train, infer, fine-tune."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import bad_hyperparameters_message, bad_input_message, run_offline

TEXTS = [
    "the movie was wonderful and superb",
    {"text": "the service was awful and dreadful"},
    "the food was not terrible and poor overall",
]
LABELS = ["positive", "negative", "positive"]


def classify(tmp_path: Path, model_type: str, model_uri: str) -> list[str]:
    """The predictions of a trained model for TEXTS."""
    spec = {
        "task": "inference",
        "model": {"type": model_type, "source": {"uri": model_uri}},
        "input": {"records": TEXTS, "batchSize": 2},
    }
    code, status = run_offline(spec, tmp_path)
    assert code == 0, (tmp_path / "termination-log").read_text()
    return [output["prediction"] for output in status["results"]["outputs"]]


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


@pytest.mark.parametrize(
    ("model_type", "hyperparameters", "architecture"),
    [
        ("distilbert", {"epochs": 4, "seed": 2}, "distilbert"),
        # GPT-2 (causal, classifies from the last token): 0.99 measured; 0.89 at lr 0.002.
        ("gpt", {"epochs": 4, "learningRate": 0.001, "seed": 1}, "gpt2"),
        # The generic encoder (BERT): 0.96 measured after 2 epochs.
        ("transformer", {"epochs": 2, "seed": 1}, "bert"),
    ],
)
def test_a_text_model_learns_the_sentiment_set_and_classifies_texts(
    tmp_path: Path, model_type: str, hyperparameters: dict[str, Any], architecture: str
) -> None:
    spec = {
        "task": "training",
        "model": {"type": model_type, "hyperparameters": hyperparameters},
        "dataset": {"name": "sentiment"},
    }
    code, status = run_offline(spec, tmp_path / "train")
    assert code == 0, (tmp_path / "train" / "termination-log").read_text()
    results = status["results"]
    assert results["metrics"]["accuracy"] >= 0.9
    progress = status["progress"]
    assert progress["epoch"] == hyperparameters["epochs"]
    assert "eval_accuracy" in progress["metrics"]
    names = {artifact["name"] for artifact in results["artifacts"]}
    assert {"model/model.safetensors", "model/tokenizer.json", "model/config.json"} <= names
    config = (Path(results["modelUri"].removeprefix("file://")) / "config.json").read_text()
    assert f'"model_type": "{architecture}"' in config
    assert classify(tmp_path / "infer", model_type, results["modelUri"]) == LABELS


def test_the_trained_model_classifies_texts(
    tmp_path: Path, bert_model: tuple[str, dict[str, float]]
) -> None:
    model_uri, _ = bert_model
    assert classify(tmp_path, "bert", model_uri) == LABELS


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
    assert "spec.input.records[1]: expected a string" in bad_input_message(spec, tmp_path)


@pytest.mark.parametrize(
    ("model_type", "hyperparameters", "message"),
    [
        ("bert", {"hiddenSize": 30, "numHeads": 4}, "hiddenSize: 30 is not a multiple of numHeads"),
        ("gpt", {"hiddenSize": 30, "numHeads": 4}, "hiddenSize: 30 is not a multiple of numHeads"),
        ("gpt", {"numLayers": 0}, "numLayers: Input should be greater than or equal to 1"),
        ("transformer", {"nLayer": 2}, "nLayer: not a hyperparameter of this model type"),
    ],
)
def test_bad_sizes_are_bad_input(
    tmp_path: Path, model_type: str, hyperparameters: dict[str, Any], message: str
) -> None:
    found = bad_hyperparameters_message(model_type, hyperparameters, "sentiment", tmp_path)
    assert f"spec.model.hyperparameters.{message}" in found


def test_a_gpt2_directory_without_a_pad_token_is_fine_tuned(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2ForSequenceClassification, PreTrainedTokenizerFast

    pairs = [
        ("the hotel was lovely and pleasant", "good"),
        ("the app was broken and useless", "bad"),
        ("the staff was great and brilliant", "good"),
        ("the game was boring and bland", "bad"),
    ]
    words = sorted({word for text, _ in pairs for word in text.split()})
    vocabulary = {word: index for index, word in enumerate(["<unk>", "<eos>", *words])}
    backend = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", eos_token="<eos>"
    )
    assert tokenizer.pad_token is None  # as in GPT-2 checkpoints
    config = GPT2Config(
        vocab_size=len(vocabulary), n_embd=32, n_layer=1, n_head=2, n_positions=32,
        bos_token_id=1, eos_token_id=1,
    )  # fmt: skip
    base = tmp_path / "gpt2-base"
    GPT2ForSequenceClassification(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    rows = ["text,label"] + [f"{text},{label}" for text, label in pairs * 20]
    (tmp_path / "reviews.csv").write_text("\n".join(rows))
    spec = {
        "task": "training",
        "model": {
            "type": "gpt",
            "hyperparameters": {"epochs": 2, "learningRate": 0.001, "modelDir": f"file://{base}"},
        },
        "dataset": {"uri": f"file://{tmp_path}/reviews.csv"},
    }
    code, status = run_offline(spec, tmp_path / "job")
    assert code == 0, (tmp_path / "job" / "termination-log").read_text()
    assert status["results"]["metrics"]["accuracy"] == 1.0
