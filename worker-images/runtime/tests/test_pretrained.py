"""spec.model.pretrained in the runtime: a runner that names no format refuses every one (bad
input naming the field, before any data is read); fetching reports what is missing and
checks a model saved by aijob against its recorded checksums."""

from __future__ import annotations

from pathlib import Path

import pytest
from aijob_api.pretrained import PretrainedFormat, PretrainedModel

from aijob_worker.errors import BadInputError
from aijob_worker.job import run_job
from aijob_worker.manifest import Manifest, write_manifest
from aijob_worker.pretrained import fetch_directory, fetch_file, hub_token, require_format
from aijob_worker.runners import RunnerRegistry
from aijob_worker.signals import StopFlag
from tests.conftest import offline_env, read_status


def test_a_runner_without_pretrained_formats_refuses_fine_tuning(
    tmp_path: Path, registry: RunnerRegistry
) -> None:
    spec = {
        "task": "training",
        "model": {
            "type": "softmax",
            "pretrained": {"uri": f"file://{tmp_path}/weights.pt", "format": "state_dict"},
        },
        "dataset": {"name": "iris"},
    }
    code = run_job(offline_env(tmp_path, spec), stop=StopFlag(), registry=registry)
    assert code == 65
    message = (tmp_path / "termination-log").read_text()
    assert "spec.model.pretrained.format: model type softmax cannot be fine-tuned from " in message
    assert "(it takes: none)" in message
    assert "results" not in read_status(tmp_path)


def test_require_format_names_the_formats_taken() -> None:
    model = PretrainedModel(uri="s3://b/m", format=PretrainedFormat.KERAS)
    accepted = {PretrainedFormat.STATE_DICT, PretrainedFormat.TORCHSCRIPT}
    with pytest.raises(BadInputError) as error:
        require_format(model, accepted, "mlp")
    assert error.value.field == "spec.model.pretrained.format"
    assert error.value.problem.endswith("(it takes: state_dict, torchscript)")
    require_format(
        PretrainedModel(uri="s3://b/m", format=PretrainedFormat.STATE_DICT), accepted, "mlp"
    )


def test_fetching_names_the_uri_when_nothing_is_there(tmp_path: Path) -> None:
    missing = PretrainedModel(uri=f"file://{tmp_path}/absent")
    with pytest.raises(BadInputError, match="cannot download the directory") as error:
        fetch_directory(missing, tmp_path / "work")
    assert error.value.field == "spec.model.pretrained.uri"
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="holds no files"):
        fetch_directory(PretrainedModel(uri=f"file://{tmp_path}/empty"), tmp_path / "work2")
    with pytest.raises(BadInputError, match="cannot download the file"):
        fetch_file(missing, tmp_path / "work3")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    local = fetch_directory(PretrainedModel(uri=f"file://{tmp_path}/model"), tmp_path / "work4")
    assert (local / "config.json").read_text() == "{}"
    hub = PretrainedModel.model_validate({"hubId": "org/m"})
    with pytest.raises(BadInputError) as from_hub:
        fetch_file(hub, tmp_path / "work5")
    assert from_hub.value.field == "spec.model.pretrained.hubId"


def test_the_hub_token_is_the_pods_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert hub_token() is None
    monkeypatch.setenv("HF_TOKEN", "hf_abc")
    assert hub_token() == "hf_abc"


def test_a_model_saved_by_aijob_must_match_its_recorded_checksums(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "model.pt").write_bytes(b"weights")
    (saved / "config.json").write_text("{}")
    write_manifest(saved, Manifest(model_type="mlp", framework="pytorch"))
    whole = PretrainedModel(uri=f"file://{saved}")
    single = PretrainedModel(uri=f"file://{saved}/model.pt", format=PretrainedFormat.STATE_DICT)
    assert (fetch_directory(whole, tmp_path / "w1") / "model.pt").read_bytes() == b"weights"
    assert fetch_file(single, tmp_path / "w2").read_bytes() == b"weights"
    (saved / "model.pt").write_bytes(b"tampered")
    with pytest.raises(BadInputError, match=r"model\.pt does not match its SHA-256") as error:
        fetch_directory(whole, tmp_path / "w3")
    assert error.value.field == "spec.model.pretrained.uri"
    with pytest.raises(BadInputError, match="does not match the SHA-256") as error:
        fetch_file(single, tmp_path / "w4")
    assert error.value.field == "spec.model.pretrained.uri"
