"""Whole jobs, offline (status into a file): training, checkpoint and resume, inference, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from aijob_worker import job
from aijob_worker.job import run_job
from aijob_worker.runners import RunnerRegistry
from aijob_worker.session import TrainingSession
from aijob_worker.signals import StopFlag
from aijob_worker.status import FileStatusWriter, StatusWriteError
from tests.conftest import offline_env, read_status
from tests.softmax_runner import SoftmaxRunner

TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {
        "type": "softmax",
        "hyperparameters": {"epochs": 8, "learningRate": 1.0, "batchSize": 16, "seed": 1},
    },
    "dataset": {"name": "iris"},
}


def test_training_reports_results_and_the_model(tmp_path: Path, registry: RunnerRegistry) -> None:
    code = run_job(offline_env(tmp_path, TRAINING), stop=StopFlag(), registry=registry)
    assert code == 0
    status = read_status(tmp_path)
    results = status["results"]
    assert results["metrics"]["accuracy"] >= 0.85
    assert results["metrics"]["epochsThisAttempt"] == 8
    assert results["modelUri"] == f"file://{tmp_path}/artifacts/model"
    assert {artifact["name"] for artifact in results["artifacts"]} == {
        "model/aijob-model.json",
        "model/weights.npy",
        "model/mean.npy",
        "model/scale.npy",
    }
    assert all(len(artifact["sha256"]) == 64 for artifact in results["artifacts"])
    assert set(results["timings"]) == {"prepareMs", "trainMs", "uploadMs"}
    assert results["device"] == "cpu"
    assert status["progress"]["percent"] == 100
    assert status["progress"]["stage"] == "succeeded"
    assert status["progress"]["epoch"] == 8


def test_inference_uses_the_trained_model(tmp_path: Path, registry: RunnerRegistry) -> None:
    assert run_job(offline_env(tmp_path / "t", TRAINING), stop=StopFlag(), registry=registry) == 0
    records = [[5.1, 3.5, 1.4, 0.2], {"features": [6.7, 3.0, 5.2, 2.3]}]
    inference = {
        "task": "inference",
        "model": {"type": "softmax", "source": {"uri": "file:///unused"}},
        "input": {"records": records, "batchSize": 1},
    }
    env = offline_env(
        tmp_path / "i", inference, AIJOB_MODEL_URI=f"file://{tmp_path}/t/artifacts/model"
    )
    assert run_job(env, stop=StopFlag(), registry=registry) == 0
    results = read_status(tmp_path / "i")["results"]
    assert [output["prediction"] for output in results["outputs"]] == ["setosa", "virginica"]
    assert set(results["timings"]) == {"prepareMs", "inferMs", "uploadMs"}
    written = Path(results["outputUri"].removeprefix("file://")).read_text().splitlines()
    assert [json.loads(line) for line in written] == results["outputs"]


def test_stop_checkpoints_and_the_next_attempt_resumes(
    tmp_path: Path, registry: RunnerRegistry
) -> None:
    def stop_after_third(session: TrainingSession, epoch: int) -> None:
        if epoch == 3:
            session.stop.request("test")

    SoftmaxRunner.on_epoch = stop_after_third
    env = offline_env(tmp_path, TRAINING)
    assert run_job(env, stop=StopFlag(), registry=registry) == 143
    status = read_status(tmp_path)
    assert status["checkpoint"]["epoch"] == 3
    assert status["progress"]["stage"] == "interrupted: checkpoint saved"
    assert "results" not in status
    assert "stopped by SIGTERM" in (tmp_path / "termination-log").read_text()

    SoftmaxRunner.on_epoch = None
    assert run_job(env, stop=StopFlag(), registry=registry) == 0
    metrics = read_status(tmp_path)["results"]["metrics"]
    assert metrics["resumedFromEpoch"] == 3
    assert metrics["epochsThisAttempt"] == 5
    assert metrics["accuracy"] >= 0.85


def test_a_damaged_checkpoint_means_starting_over(tmp_path: Path, registry: RunnerRegistry) -> None:
    SoftmaxRunner.on_epoch = lambda session, epoch: epoch == 2 and session.stop.request("test")
    env = offline_env(tmp_path, TRAINING)
    assert run_job(env, stop=StopFlag(), registry=registry) == 143
    checkpoint_uri = read_status(tmp_path)["checkpoint"]["uri"]
    (Path(checkpoint_uri.removeprefix("file://")) / "weights.npy").write_bytes(b"garbage")
    SoftmaxRunner.on_epoch = None
    assert run_job(env, stop=StopFlag(), registry=registry) == 0
    metrics = read_status(tmp_path)["results"]["metrics"]
    assert "resumedFromEpoch" not in metrics
    assert metrics["epochsThisAttempt"] == 8


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"model": {"type": "softmax", "hyperparameters": {"learningRate": 0}}},
            "spec.model.hyperparameters.learningRate: Input should be greater than 0",
        ),
        ({"model": {"type": "transformer_xl"}}, "spec.model.type: unknown model type"),
        ({"dataset": {"name": "imagenet"}}, "spec.dataset.name: unknown data set 'imagenet'"),
    ],
)
def test_bad_input_exits_65_with_a_clear_message(
    tmp_path: Path, registry: RunnerRegistry, change: dict[str, Any], message: str
) -> None:
    env = offline_env(tmp_path, {**TRAINING, **change})
    assert run_job(env, stop=StopFlag(), registry=registry) == 65
    termination = (tmp_path / "termination-log").read_text()
    assert termination.startswith("bad input: ")
    assert message in termination
    assert message in read_status(tmp_path)["progress"]["stage"]


def test_inference_with_a_missing_model_is_bad_input(
    tmp_path: Path, registry: RunnerRegistry
) -> None:
    spec = {
        "task": "inference",
        "model": {"type": "softmax", "source": {"uri": f"file://{tmp_path}/none"}},
        "input": {"records": [[1, 2, 3, 4]]},
    }
    assert run_job(offline_env(tmp_path, spec), stop=StopFlag(), registry=registry) == 65
    assert "spec.model.source: cannot load the model" in (tmp_path / "termination-log").read_text()


def test_the_command_prints_versions_and_refuses_a_missing_spec(tmp_path: Path) -> None:
    version = subprocess.run(
        [sys.executable, "-m", "aijob_worker", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.startswith("aijob-worker ")
    assert "python 3.11" in version.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "aijob_worker"],
        capture_output=True,
        text=True,
        env={"AIJOB_TERMINATION_MESSAGE_PATH": str(tmp_path / "log"), "PATH": "/usr/bin"},
    )
    assert missing.returncode == 65
    assert "AIJOB_SPEC_FILE: is not set" in missing.stderr
    assert (tmp_path / "log").read_text().startswith("AIJOB_SPEC_FILE: is not set")


class ResultsRefusingWriter(FileStatusWriter):
    """The real file writer, except that every write carrying results fails (API down)."""

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        if "results" in patch:
            raise StatusWriteError("API server unreachable", retryable=True)
        super().patch_status(patch)


def test_results_that_cannot_be_written_fail_the_attempt(
    tmp_path: Path, registry: RunnerRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job, "RESULTS_WRITE_DEADLINE_SECONDS", 0.5)
    writer = ResultsRefusingWriter(tmp_path / "status.json")
    env = offline_env(tmp_path, TRAINING)
    assert run_job(env, stop=StopFlag(), registry=registry, writer=writer) == 1
    assert "results could not be written" in (tmp_path / "termination-log").read_text()
    assert "results" not in read_status(tmp_path)


class ResultsInvalidWriter(FileStatusWriter):
    """The real file writer, except that the API server refuses every write of results."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.results_attempts = 0

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        if "results" in patch:
            self.results_attempts += 1
            raise StatusWriteError(
                "API server answered 422 Invalid: status.results.device: Too long",
                retryable=False,
                code=422,
            )
        super().patch_status(patch)


def test_results_the_api_server_refuses_fail_at_once_with_its_words(
    tmp_path: Path, registry: RunnerRegistry
) -> None:
    writer = ResultsInvalidWriter(tmp_path / "status.json")
    env = offline_env(tmp_path, TRAINING)
    assert run_job(env, stop=StopFlag(), registry=registry, writer=writer) == 65
    assert writer.results_attempts == 1, "not retried: the same write would be refused again"
    message = (tmp_path / "termination-log").read_text()
    assert message.startswith("the API server refused the results: API server answered 422")
    assert "status.results.device: Too long" in message
    assert "unreachable" not in message


def test_results_too_large_for_the_status_are_written_whole_with_a_pointer(
    tmp_path: Path, registry: RunnerRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_job(offline_env(tmp_path / "t", TRAINING), stop=StopFlag(), registry=registry) == 0
    monkeypatch.setattr("aijob_worker.results.MAX_STATUS_RESULTS_BYTES", 2048)
    records = [[5.1, 3.5, 1.4, 0.2 + index / 100] for index in range(60)]
    inference = {
        "task": "inference",
        "model": {"type": "softmax", "source": {"uri": "file:///unused"}},
        "input": {"records": records},
    }
    env = offline_env(
        tmp_path / "i", inference, AIJOB_MODEL_URI=f"file://{tmp_path}/t/artifacts/model"
    )
    assert run_job(env, stop=StopFlag(), registry=registry) == 0
    summary = read_status(tmp_path / "i")["results"]
    assert len(json.dumps(summary, separators=(",", ":"))) <= 2048
    assert "outputs" not in summary
    assert summary["resultsUri"] == f"file://{tmp_path}/i/artifacts/results.json"
    whole = json.loads(Path(summary["resultsUri"].removeprefix("file://")).read_text())
    assert len(whole["outputs"]) == 60
    assert whole["metrics"] == summary["metrics"]
    (pointer,) = [item for item in summary["artifacts"] if item["name"] == "results.json"]
    assert pointer["uri"] == summary["resultsUri"]
