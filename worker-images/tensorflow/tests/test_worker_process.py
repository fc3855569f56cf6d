"""The image's entry point as a process: bad input, SIGTERM and resume, the zero-code callback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from aijob_worker.offline import read_offline_status

from tests.conftest import offline_env, run_worker_process


def epoch_events(stderr: str) -> list[int]:
    """The epochs the worker finished, from its JSON log lines."""
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [event["epoch"] for event in events if event.get("event") == "epoch_end"]


def test_bad_hyperparameters_exit_65_with_a_clear_message(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "model": {"type": "keras_dense", "hyperparameters": {"hiddenUnits": [64, 0]}},
        "dataset": {"name": "iris"},
    }
    finished = run_worker_process(tmp_path, spec)
    assert finished.returncode == 65
    message = (
        "spec.model.hyperparameters.hiddenUnits[1]: Input should be greater than or equal to 1"
    )
    assert message in finished.stderr
    assert message in (tmp_path / "termination-log").read_text()


def test_sigterm_checkpoints_and_the_next_attempt_resumes(tmp_path: Path) -> None:
    epochs = 20
    spec = {
        "task": "training",
        "model": {
            "type": "keras_dense",
            "hyperparameters": {"epochs": epochs, "batchSize": 32, "learningRate": 0.005},
        },
        "dataset": {"name": "breast_cancer"},
    }
    env = {**os.environ, **offline_env(spec, tmp_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "aijob_worker"], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 180
    while read_offline_status(tmp_path).get("progress", {}).get("epoch", 0) < 1:
        assert worker.poll() is None, "the worker ended before its first epoch"
        assert time.monotonic() < deadline, "no progress in the status file"
        time.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 143, stderr
    done = read_offline_status(tmp_path)["checkpoint"]["epoch"]
    assert 1 <= done < epochs
    assert epoch_events(stderr)[-1] <= done + 1

    resumed = run_worker_process(tmp_path, spec)
    assert resumed.returncode == 0, resumed.stderr
    assert epoch_events(resumed.stderr) == list(range(done + 1, epochs + 1))
    metrics = read_offline_status(tmp_path)["results"]["metrics"]
    assert metrics["resumedFromEpoch"] == done
    assert metrics["epochsThisAttempt"] == epochs - done
    assert metrics["accuracy"] >= 0.93


def test_the_callback_reports_from_a_plain_keras_script(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import numpy as np
        import keras
        from aijob_worker.integrations.keras import AIJobProgressCallback

        x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
        y = (x[:, 0] > 0).astype("int64")
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[AIJobProgressCallback()])
        """
    )
    env = {
        **os.environ,
        "AIJOB_STATUS_FILE": str(tmp_path / "status.json"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=300)
    progress = read_offline_status(tmp_path)["progress"]
    assert progress["epoch"] == 3
    assert progress["totalEpochs"] == 3
    assert progress["step"] == progress["totalSteps"] == 12
    assert progress["percent"] == 100
    assert "accuracy" in progress["metrics"]
