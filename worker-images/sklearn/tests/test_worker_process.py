"""The image's entry point as a process: exit codes, messages, and resuming after SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from aijob_worker.offline import read_offline_status as read_status

from tests.conftest import offline_env, run_worker_process


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            {"type": "random_forest", "hyperparameters": {"nEstimators": -5}},
            "spec.model.hyperparameters.nEstimators: Input should be greater than or equal to 1",
        ),
        (
            {"type": "svm", "hyperparameters": {"epochs": 10}},
            "spec.model.hyperparameters.epochs: not a hyperparameter of this model type; "
            "it reads C, gamma, kernel, seed",
        ),
        (
            {"type": "gradient_boosting", "hyperparameters": {"learningRate": 5}},
            "spec.model.hyperparameters.learningRate: Input should be less than or equal to 1",
        ),
        ({"type": "mlp"}, "spec.model.type: unknown model type 'mlp' for this worker image"),
    ],
)
def test_bad_input_exits_65_with_a_clear_message(
    tmp_path: Path, model: dict[str, Any], message: str
) -> None:
    spec = {"task": "training", "model": model, "dataset": {"name": "iris"}}
    finished = run_worker_process(tmp_path, spec)
    assert finished.returncode == 65
    assert message in finished.stderr
    assert message in (tmp_path / "termination-log").read_text()


def test_unreadable_data_exits_65(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "model": {"type": "svm"},
        "dataset": {"uri": f"file://{tmp_path}/missing.csv"},
    }
    finished = run_worker_process(tmp_path, spec)
    assert finished.returncode == 65
    assert "spec.dataset.uri: cannot read" in finished.stderr


def test_success_exits_0_and_logs_json_lines(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "model": {"type": "random_forest", "hyperparameters": {"nEstimators": 9, "epochs": 3}},
        "dataset": {"name": "wine"},
    }
    finished = run_worker_process(tmp_path, spec)
    assert finished.returncode == 0, finished.stderr
    events = epoch_events(finished.stderr)
    assert events == [1, 2, 3]


def epoch_events(stderr: str) -> list[int]:
    """The epochs the worker finished, from its JSON log lines."""
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [event["epoch"] for event in events if event.get("event") == "epoch_end"]


def test_sigterm_checkpoints_and_the_next_attempt_resumes(tmp_path: Path) -> None:
    stages = 30
    spec = {
        "task": "training",
        "model": {
            "type": "random_forest",
            "hyperparameters": {"nEstimators": 5 * stages, "epochs": stages, "seed": 2},
        },
        "dataset": {"name": "digits"},
    }
    env = {**os.environ, **offline_env(spec, tmp_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "aijob_worker"], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while read_status(tmp_path).get("progress", {}).get("epoch", 0) < 1:
        assert worker.poll() is None, "the worker ended before its first stage"
        assert time.monotonic() < deadline, "no progress in the status file"
        time.sleep(0.01)
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 143, stderr
    checkpoint = read_status(tmp_path)["checkpoint"]
    done = checkpoint["epoch"]
    assert 1 <= done < stages
    assert epoch_events(stderr) == list(range(1, done + 1))
    assert "stopped by SIGTERM; checkpoint saved at" in (tmp_path / "termination-log").read_text()

    resumed = run_worker_process(tmp_path, spec)
    assert resumed.returncode == 0, resumed.stderr
    assert epoch_events(resumed.stderr) == list(range(done + 1, stages + 1))
    metrics = read_status(tmp_path)["results"]["metrics"]
    assert metrics["resumedFromEpoch"] == done
    assert metrics["epochsThisAttempt"] == stages - done
    assert metrics["accuracy"] >= 0.93
