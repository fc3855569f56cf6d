"""Fine-tuning from `spec.model.pretrained`: a Hugging Face directory, a hub id, a state-dict,
a TorchScript file; and what is not a model of the format, bad input naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.conftest import bad_input_message, run_offline, run_worker_process

PAIRS = [
    ("the hotel was lovely and pleasant", "good"),
    ("the app was broken and useless", "bad"),
    ("the staff was great and brilliant", "good"),
    ("the game was boring and bland", "bad"),
]
HUB_ID = "aijob-test/tiny-bert"
REVISION = "0123456789abcdef0123456789abcdef01234567"
IRIS_MLP = {"epochs": 30, "learningRate": 0.01, "batchSize": 16, "seed": 4}
FROZEN = {"epochs": 1, "learningRate": 1e-7, "batchSize": 16, "seed": 4}
"""One epoch that barely moves the weights: the accuracy is the starting weights'."""


def tiny_bert(directory: Path) -> Path:
    """A randomly initialised 2-layer BERT (hidden 32) saved without a tokenizer."""
    from transformers import AutoModelForSequenceClassification, BertConfig

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )  # fmt: skip
    AutoModelForSequenceClassification.from_config(config).save_pretrained(directory)
    return directory


def reviews(directory: Path) -> str:
    """A small two-class CSV data set; its URI."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = ["text,label"] + [f"{text},{label}" for text, label in PAIRS * 20]
    (directory / "reviews.csv").write_text("\n".join(rows))
    return f"file://{directory}/reviews.csv"


def text_job(pretrained: dict[str, Any], dataset_uri: str) -> dict[str, Any]:
    return {
        "task": "training",
        "model": {
            "type": "bert",
            "hyperparameters": {"epochs": 6, "learningRate": 0.003, "maxLength": 16, "seed": 1},
            "pretrained": pretrained,
        },
        "dataset": {"uri": dataset_uri},
    }


def test_a_hugging_face_directory_without_tokenizer_is_fine_tuned_and_serves(
    tmp_path: Path,
) -> None:
    base = tiny_bert(tmp_path / "base")
    assert not (base / "tokenizer.json").exists()
    spec = text_job({"uri": f"file://{base}", "format": "huggingface"}, reviews(tmp_path))
    code, status = run_offline(spec, tmp_path / "job")
    assert code == 0, (tmp_path / "job" / "termination-log").read_text()
    results = status["results"]
    assert results["metrics"]["accuracy"] == 1.0
    assert status["progress"]["epoch"] == 6
    assert "loss" in status["progress"]["metrics"]
    stored = {artifact["name"]: artifact["sha256"] for artifact in results["artifacts"]}
    assert stored["model/aijob-model.json"]
    assert stored["model/model.safetensors"]
    inference = {
        "task": "inference",
        "model": {"type": "bert", "source": {"uri": results["modelUri"]}},
        "input": {"records": [text for text, _ in PAIRS]},
    }
    code, served = run_offline(inference, tmp_path / "predict")
    assert code == 0, (tmp_path / "predict" / "termination-log").read_text()
    predicted = [output["prediction"] for output in served["results"]["outputs"]]
    assert predicted == [label for _, label in PAIRS]


def hub_cache(home: Path, base: Path) -> None:
    """The layout huggingface_hub keeps a downloaded repository in, under HF_HOME."""
    repository = home / "hub" / f"models--{HUB_ID.replace('/', '--')}"
    (repository / "refs").mkdir(parents=True)
    (repository / "refs" / "main").write_text(REVISION)
    snapshot = repository / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    for file in base.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())


def test_a_hub_id_loads_through_the_hub_offline_with_the_token(tmp_path: Path) -> None:
    home = tmp_path / "hf"
    hub_cache(home, tiny_bert(tmp_path / "base"))
    spec = text_job(
        {"hubId": HUB_ID, "tokenSecret": {"name": "hub", "key": "token"}}, reviews(tmp_path)
    )
    env = {"HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_not_used_offline"}
    finished = run_worker_process(tmp_path / "job", spec, **env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    status = json.loads((tmp_path / "job" / "status.json").read_text())
    assert status["results"]["metrics"]["accuracy"] == 1.0
    missing = text_job({"hubId": "aijob-test/absent"}, reviews(tmp_path))
    failed = run_worker_process(tmp_path / "absent", missing, **env)
    assert failed.returncode == 65
    message = (tmp_path / "absent" / "termination-log").read_text()
    assert "spec.model.pretrained.hubId: cannot fetch aijob-test/absent from the hub" in message


@pytest.fixture(scope="module")
def iris_mlp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained iris MLP's model directory (model.pt is its state-dict)."""
    workdir = tmp_path_factory.mktemp("mlp")
    spec = {"task": "training", "model": {"type": "mlp", "hyperparameters": IRIS_MLP}}
    spec["dataset"] = {"name": "iris"}
    code, status = run_offline(spec, workdir)
    assert code == 0, (workdir / "termination-log").read_text()
    assert status["results"]["metrics"]["accuracy"] >= 0.9
    return Path(status["results"]["modelUri"].removeprefix("file://"))


def mlp_job(pretrained: dict[str, Any] | None) -> dict[str, Any]:
    model: dict[str, Any] = {"type": "mlp", "hyperparameters": FROZEN}
    if pretrained is not None:
        model["pretrained"] = pretrained
    return {"task": "training", "model": model, "dataset": {"name": "iris"}}


def accuracy_of(spec: dict[str, Any], workdir: Path) -> float:
    code, status = run_offline(spec, workdir)
    assert code == 0, (workdir / "termination-log").read_text()
    return float(status["results"]["metrics"]["accuracy"])


def scripted(model_dir: Path, into: Path) -> Path:
    """The trained MLP as a TorchScript file (rebuilt from its manifest, then traced)."""
    from aijob_worker_pytorch.tabular import MLPRunner

    manifest = json.loads((model_dir / "aijob-model.json").read_text())
    network = MLPRunner.network(manifest["metadata"]["architecture"])
    network.load_state_dict(torch.load(model_dir / "model.pt", weights_only=True))
    example = torch.zeros(1, len(manifest["metadata"]["featureNames"]))
    path = into / "mlp.torchscript.pt"
    traced = torch.jit.trace(network.eval(), example)  # type: ignore[no-untyped-call]
    torch.jit.save(traced, str(path))
    return path


def test_state_dict_and_torchscript_weights_are_the_starting_point(
    tmp_path: Path, iris_mlp: Path
) -> None:
    scratch = accuracy_of(mlp_job(None), tmp_path / "scratch")
    state_dict = {"uri": f"file://{iris_mlp}/model.pt", "format": "state_dict"}
    from_state_dict = accuracy_of(mlp_job(state_dict), tmp_path / "state-dict")
    script = {"uri": f"file://{scripted(iris_mlp, tmp_path)}", "format": "torchscript"}
    from_script = accuracy_of(mlp_job(script), tmp_path / "torchscript")
    assert scratch < 0.8
    assert from_state_dict >= 0.9
    assert from_script == from_state_dict


def test_what_is_not_a_model_of_the_format_is_bad_input(tmp_path: Path, iris_mlp: Path) -> None:
    def refused(pretrained: dict[str, Any], name: str) -> str:
        return bad_input_message(mlp_job(pretrained), tmp_path / name)

    absent = refused({"uri": f"file://{tmp_path}/absent.pt", "format": "state_dict"}, "absent")
    assert "spec.model.pretrained.uri: cannot download the file" in absent
    (tmp_path / "text.pt").write_text("not a tensor file")
    garbage = refused({"uri": f"file://{tmp_path}/text.pt", "format": "torchscript"}, "garbage")
    assert "spec.model.pretrained.uri: " in garbage
    assert "is not a torchscript file" in garbage
    other = {**FROZEN, "hiddenUnits": [8]}
    spec = mlp_job({"uri": f"file://{iris_mlp}/model.pt", "format": "state_dict"})
    spec["model"]["hyperparameters"] = other
    misfit = bad_input_message(spec, tmp_path / "misfit")
    assert "spec.model.pretrained.uri: " in misfit
    assert "does not fit this model's configuration" in misfit
    wrong = refused({"uri": f"file://{iris_mlp}", "format": "huggingface"}, "wrong-format")
    assert "spec.model.pretrained.format: model type mlp cannot be fine-tuned" in wrong
    data = reviews(tmp_path / "data")
    text = text_job({"uri": f"file://{iris_mlp}/model.pt", "format": "state_dict"}, data)
    found = bad_input_message(text, tmp_path / "text")
    assert "spec.model.pretrained.format: model type bert cannot be fine-tuned" in found
    not_hf = text_job({"uri": f"file://{iris_mlp}"}, data)
    found = bad_input_message(not_hf, tmp_path / "not-hf")
    assert "spec.model.pretrained.uri: cannot load a Hugging Face model" in found


def test_a_resumed_fine_tuning_starts_from_its_checkpoint(tmp_path: Path, iris_mlp: Path) -> None:
    weights = tmp_path / "weights.pt"
    weights.write_bytes((iris_mlp / "model.pt").read_bytes())
    pretrained = {"uri": f"file://{weights}", "format": "state_dict"}

    def attempt(**hyperparameters: Any) -> dict[str, Any]:
        spec = mlp_job(pretrained)
        spec["model"]["hyperparameters"] = {**IRIS_MLP, **hyperparameters}
        code, status = run_offline(spec, tmp_path / "job")
        assert code == 0, (tmp_path / "job" / "termination-log").read_text()
        return status

    assert attempt(epochs=2, checkpointEveryEpochs=1)["checkpoint"]["epoch"] == 1
    weights.unlink()  # a resumed attempt reads its checkpoint, not the pretrained model again
    metrics = attempt(epochs=3)["results"]["metrics"]
    assert metrics["resumedFromEpoch"] == 1
    assert metrics["epochsThisAttempt"] == 2
    assert metrics["accuracy"] >= 0.9
