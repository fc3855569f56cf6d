"""The image's entry point as a process: bad input, SIGTERM and resume, zero-code callbacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from aijob_worker.distributed import ENV_RANK_DIR
from aijob_worker.integrations.transformers import AIJobTrainerCallback
from aijob_worker.offline import read_offline_status
from aijob_worker.progress import ProgressReporter
from aijob_worker.status import FileStatusWriter
from transformers import TrainerControl, TrainerState, TrainingArguments

from tests.conftest import offline_env, run_worker_process


def epoch_events(stderr: str) -> list[int]:
    """The epochs the worker finished, from its JSON log lines."""
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [event["epoch"] for event in events if event.get("event") == "epoch_end"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            {"type": "mlp", "hyperparameters": {"learningRate": -0.1}},
            "spec.model.hyperparameters.learningRate: Input should be greater than 0",
        ),
    ],
)
def test_bad_hyperparameters_exit_65_with_a_clear_message(
    tmp_path: Path, model: dict[str, Any], message: str
) -> None:
    dataset = {"name": "sentiment" if model["type"] == "bert" else "iris"}
    finished = run_worker_process(
        tmp_path, {"task": "training", "model": model, "dataset": dataset}
    )
    assert finished.returncode == 65
    assert message in finished.stderr
    assert message in (tmp_path / "termination-log").read_text()


def stop_after_first_epoch(workdir: Path, spec: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """Start the worker, SIGTERM it once an epoch is in the status; exit code, stderr, status."""
    env = {**os.environ, **offline_env(spec, workdir)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "aijob_worker"], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while read_offline_status(workdir).get("progress", {}).get("epoch", 0) < 1:
        assert worker.poll() is None, "the worker ended before its first epoch"
        assert time.monotonic() < deadline, "no progress in the status file"
        time.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=300)
    return worker.returncode, stderr, read_offline_status(workdir)


def test_sigterm_checkpoints_an_mlp_and_the_next_attempt_resumes(tmp_path: Path) -> None:
    epochs = 20
    spec = {
        "task": "training",
        "model": {"type": "mlp", "hyperparameters": {"epochs": epochs, "batchSize": 16}},
        "dataset": {"name": "digits"},
    }
    code, stderr, status = stop_after_first_epoch(tmp_path, spec)
    assert code == 143, stderr
    done = status["checkpoint"]["epoch"]
    assert 1 <= done < epochs
    assert epoch_events(stderr)[-1] in (done, done + 1)

    resumed = run_worker_process(tmp_path, spec)
    assert resumed.returncode == 0, resumed.stderr
    assert epoch_events(resumed.stderr) == list(range(done + 1, epochs + 1))
    metrics = read_offline_status(tmp_path)["results"]["metrics"]
    assert metrics["resumedFromEpoch"] == done
    assert metrics["epochsThisAttempt"] == epochs - done
    assert metrics["accuracy"] >= 0.94


def test_sigterm_checkpoints_the_trainer_and_the_next_attempt_resumes(tmp_path: Path) -> None:
    epochs = 3
    spec = {
        "task": "training",
        "model": {"type": "bert", "hyperparameters": {"epochs": epochs, "batchSize": 8}},
        "dataset": {"name": "sentiment"},
    }
    code, stderr, status = stop_after_first_epoch(tmp_path, spec)
    assert code == 143, stderr
    checkpoint = status["checkpoint"]
    assert checkpoint["epoch"] >= 1
    assert checkpoint["step"] >= 80  # 640 texts / 8 per step, per epoch

    resumed = run_worker_process(tmp_path, spec)
    assert resumed.returncode == 0, resumed.stderr
    assert epoch_events(resumed.stderr)[0] == checkpoint["epoch"] + 1
    final = read_offline_status(tmp_path)
    assert final["results"]["metrics"]["resumedFromEpoch"] == checkpoint["epoch"]
    assert final["progress"]["step"] == final["progress"]["totalSteps"] == 80 * epochs
    assert final["results"]["metrics"]["accuracy"] >= 0.9


def test_the_callback_reports_from_a_plain_trainer_script(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os
        import torch
        from transformers import BertConfig, BertForSequenceClassification, Trainer
        from transformers import TrainingArguments
        from aijob_worker.integrations.transformers import AIJobTrainerCallback

        class Data(torch.utils.data.Dataset):
            def __len__(self):
                return 32
            def __getitem__(self, i):
                return {"input_ids": torch.tensor([1, 2 + i % 2, 3]), "labels": torch.tensor(i % 2)}

        config = BertConfig(vocab_size=8, hidden_size=8, num_hidden_layers=1,
                            num_attention_heads=1, intermediate_size=8)
        arguments = TrainingArguments(output_dir=os.environ["OUTPUT_DIR"], num_train_epochs=2,
                                      per_device_train_batch_size=8, report_to="none",
                                      save_strategy="no", use_cpu=True, logging_steps=1)
        Trainer(model=BertForSequenceClassification(config), args=arguments, train_dataset=Data(),
                callbacks=[AIJobTrainerCallback()]).train()
        """
    )
    env = {
        **os.environ,
        "AIJOB_STATUS_FILE": str(tmp_path / "status.json"),
        "OUTPUT_DIR": str(tmp_path / "out"),
    }
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=600)
    progress = read_offline_status(tmp_path)["progress"]
    assert progress["epoch"] == 2
    assert progress["step"] == progress["totalSteps"] == 8
    assert progress["percent"] == 100
    assert "loss" in progress["metrics"]


@pytest.mark.parametrize(
    ("process_zero", "every_process", "launched", "reports"),
    [
        (True, None, False, True),
        (False, None, False, False),  # a user's own torchrun: rank 0 alone writes the status
        (False, True, False, True),
        (False, None, True, True),  # the runtime's launcher: a rank > 0 writes its own entry
        (False, False, True, False),
    ],
)
def test_the_callback_reports_from_the_world_process_zero_unless_every_process_reports(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    process_zero: bool,
    every_process: bool | None,
    launched: bool,
    reports: bool,
) -> None:
    if launched:
        monkeypatch.setenv(ENV_RANK_DIR, str(tmp_path))
    else:
        monkeypatch.delenv(ENV_RANK_DIR, raising=False)
    reporter = ProgressReporter(FileStatusWriter(tmp_path / "status.json"), interval=0)
    callback = AIJobTrainerCallback(reporter=reporter, every_process=every_process)
    arguments = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    state = TrainerState(global_step=3, max_steps=9, epoch=1.0)
    state.is_world_process_zero = process_zero
    control = TrainerControl()
    callback.on_step_end(arguments, state, control)
    callback.on_log(arguments, state, control, logs={"loss": 0.5})
    callback.on_epoch_end(arguments, state, control)
    progress = reporter.snapshot()
    assert (progress.step == 3) is reports
    assert (progress.epoch == 1) is reports
    assert ((progress.metrics or {}).get("loss") == 0.5) is reports
