"""An inference worker loads a training job's model only if its manifest has the SHA-256
the training job recorded (AIJOB_MODEL_SHA256; a model server's modelSha256): a model
changed in the store is refused."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aijob_api import contract
from pydantic import ValidationError

from aijob_worker.context import JobContext
from aijob_worker.errors import BadInputError
from aijob_worker.inference import load_model
from aijob_worker.manifest import MODEL_MANIFEST, Manifest, write_manifest
from aijob_worker.runners import RunnerRegistry
from aijob_worker.serve.config import ServeConfig
from aijob_worker.serve.model import load_served_model
from aijob_worker.storage.base import sha256_of
from tests.test_serve_model import DoublingRunner


class LoadableRunner(DoublingRunner):
    """Records that it loaded (a real runner would unpickle here)."""

    loaded = False

    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        type(self).loaded = True


@pytest.fixture
def saved(tmp_path: Path) -> tuple[str, str]:
    """A saved model directory (a file:// URI) and its manifest's SHA-256."""
    model = tmp_path / "store" / "model"
    model.mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x01\x02")
    write_manifest(model, Manifest(model_type="double", framework="test"))
    return f"file://{model}", sha256_of(model / MODEL_MANIFEST)


def test_the_recorded_checksum_loads(saved: tuple[str, str], tmp_path: Path) -> None:
    uri, checksum = saved
    registry = RunnerRegistry([LoadableRunner])
    LoadableRunner.loaded = False
    loaded = load_model(registry, uri, "double", tmp_path / "work", checksum)
    assert LoadableRunner.loaded
    assert loaded.checksum == checksum


def test_a_model_rewritten_with_a_consistent_manifest_is_refused(
    saved: tuple[str, str], tmp_path: Path
) -> None:
    """The attack the per-file checksums cannot see: files and manifest replaced together."""
    uri, checksum = saved
    model = Path(uri.removeprefix("file://"))
    (model / "weights.bin").write_bytes(b"evil")
    write_manifest(model, Manifest(model_type="double", framework="test"))
    registry = RunnerRegistry([LoadableRunner])
    LoadableRunner.loaded = False
    with pytest.raises(BadInputError) as caught:
        load_model(registry, uri, "double", tmp_path / "work", checksum)
    assert caught.value.field == "spec.model.source"
    assert "not the one its training job recorded" in str(caught.value)
    assert not LoadableRunner.loaded


def test_the_context_reads_the_expected_checksum() -> None:
    spec = '{"task":"training","model":{"type":"random_forest"},"dataset":{"name":"iris"}}'
    env = {contract.ENV_MODEL_SHA256: "ab" * 32}
    context = JobContext.from_env({**env, contract.ENV_SPEC: spec})
    assert context.model_sha256 == "ab" * 32


def test_a_served_model_is_checked_against_the_recorded_checksum(
    saved: tuple[str, str], tmp_path: Path
) -> None:
    """The model server (an AIEndpoint's replica) gets the checksum in its settings file."""
    uri, checksum = saved
    registry = RunnerRegistry([LoadableRunner])
    config = ServeConfig(name="iris", model_uri=uri, model_sha256=checksum)
    assert load_served_model(config, registry, tmp_path / "ok").checksum == checksum
    model = Path(uri.removeprefix("file://"))
    (model / "weights.bin").write_bytes(b"evil")
    write_manifest(model, Manifest(model_type="double", framework="test"))
    LoadableRunner.loaded = False
    with pytest.raises(BadInputError) as caught:
        load_served_model(config, registry, tmp_path / "swapped")
    assert caught.value.field == "modelUri"
    assert "not the one its training job recorded" in str(caught.value)
    assert not LoadableRunner.loaded


def test_the_settings_file_spells_the_checksum_model_sha256() -> None:
    config = ServeConfig.model_validate(
        {"name": "iris", "modelUri": "s3://b/jobs/rf/model", "modelSha256": "ab" * 32}
    )
    assert config.model_sha256 == "ab" * 32
    with pytest.raises(ValidationError, match=r"model_sha256|modelSha256"):
        ServeConfig.model_validate(
            {"name": "iris", "modelUri": "s3://b/jobs/rf/model", "modelSha256": "not-hex"}
        )
