"""Your own code (spec.code), offline: the script API, checkpoints and resume, the exit codes."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aijob_worker.offline import run_offline
from aijob_worker.signals import StopFlag, install_sigterm_handler
from tests.conftest import offline_env

# A script of the kind users write: numpy "training", its progress, checkpoints and model.
TRAIN = """\
import argparse, json, os, signal
import numpy as np
from aijob_worker import (checkpoint_dir, hyperparameters, latest_checkpoint, model_dir,
                          output_dir, report, save_checkpoint, save_model)

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--stop-after", type=int, default=0)
args = parser.parse_args()
weights, start = np.zeros(1), 0
resume = latest_checkpoint()
if resume is not None:
    weights, start = np.load(resume.directory / "weights.npy"), resume.epoch
    print("resumed at", start, flush=True)
for epoch in range(start + 1, args.epochs + 1):
    weights = weights + 1.0
    np.save(checkpoint_dir() / "weights.npy", weights)
    save_checkpoint(epoch)
    report(epoch=epoch, total_epochs=args.epochs, metrics={"loss": 1.0 / epoch})
    if epoch == args.stop_after:
        os.kill(os.getpid(), signal.SIGTERM)  # as when the pod is deleted
        report(stage="after SIGTERM")  # ends the attempt: never returns
np.save(model_dir() / "weights.npy", weights)
save_model(model_type="softmax", metadata={"sum": float(weights.sum())})
(output_dir() / "summary.json").write_text(json.dumps(hyperparameters()))
"""


def code_spec(**code: Any) -> dict[str, Any]:
    return {
        "task": "training",
        "framework": "pytorch",
        "model": {"hyperparameters": {"note": "kept"}},
        "code": {"configMap": "my-code", **code},
    }


def write_code(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return directory


@pytest.fixture
def stop() -> Iterator[StopFlag]:
    """A stop flag SIGTERM sets, as in the worker's command; the old handler restored after."""
    flag = StopFlag()
    previous = signal.getsignal(signal.SIGTERM)
    install_sigterm_handler(flag)
    yield flag
    signal.signal(signal.SIGTERM, previous)


def run(tmp_path: Path, spec: dict[str, Any], code: Path, stop: StopFlag | None = None) -> Any:
    return run_offline(spec, tmp_path / "job", stop=stop, AIJOB_CODE_DIR=str(code))


def message(tmp_path: Path) -> str:
    return (tmp_path / "job" / "termination-log").read_text()


def loss_epochs(status: dict[str, Any]) -> list[int]:
    """The epochs of the loss curve in the status's metric history."""
    (loss,) = [series for series in status["metricHistory"]["series"] if series["name"] == "loss"]
    assert loss["axis"] == "epoch"
    return list(loss["x"])


def test_a_script_reports_checkpoints_and_saves_its_model(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"train.py": TRAIN})
    spec = code_spec(entrypoint="train.py", args=["--epochs", "3"])
    exit_code, status = run(tmp_path, spec, code)
    assert exit_code == 0, message(tmp_path)
    results = status["results"]
    assert results["metrics"] == {
        "loss": pytest.approx(1 / 3),
        "epochs": 3.0,
        "epochsThisAttempt": 3.0,
    }
    assert results["modelUri"] == f"file://{tmp_path.resolve()}/job/artifacts/model"
    names = {artifact["name"] for artifact in results["artifacts"]}
    assert names == {"model/aijob-model.json", "model/weights.npy", "outputs/summary.json"}
    model = Path(results["modelUri"].removeprefix("file://"))
    manifest = json.loads((model / "aijob-model.json").read_text())
    assert manifest["modelType"] == "softmax"
    assert manifest["metadata"] == {"sum": 3.0}
    assert manifest["epoch"] == 3
    assert set(manifest["files"]) == {"weights.npy"}
    summary = tmp_path / "job" / "artifacts" / "outputs" / "summary.json"
    assert json.loads(summary.read_text()) == {"note": "kept"}
    assert status["progress"]["epoch"] == 3
    assert loss_epochs(status) == [1, 2, 3]
    assert status["checkpoint"]["epoch"] == 3


def test_a_script_stopped_by_sigterm_resumes_from_its_checkpoint(
    tmp_path: Path, stop: StopFlag, capfd: pytest.CaptureFixture[str]
) -> None:
    code = write_code(tmp_path / "code", {"train.py": TRAIN})
    spec = code_spec(entrypoint="train.py", args=["--epochs", "5", "--stop-after", "2"])
    exit_code, status = run(tmp_path, spec, code, stop)
    assert exit_code == 143
    assert status["checkpoint"]["epoch"] == 2
    assert "checkpoint saved at" in message(tmp_path)

    spec["code"]["args"] = ["--epochs", "5"]
    exit_code, status = run(tmp_path, spec, code, StopFlag())
    assert exit_code == 0, message(tmp_path)
    assert "resumed at 2" in capfd.readouterr().out
    metrics = status["results"]["metrics"]
    assert (metrics["resumedFromEpoch"], metrics["epochsThisAttempt"], metrics["epochs"]) == (
        2.0,
        3.0,
        5.0,
    )
    model = tmp_path / "job" / "artifacts" / "model" / "aijob-model.json"
    assert json.loads(model.read_text())["metadata"] == {"sum": 5.0}
    assert loss_epochs(status) == [1, 2, 3, 4, 5]


def test_a_module_of_a_package_runs_from_an_archive(tmp_path: Path) -> None:
    source = write_code(
        tmp_path / "src",
        {
            "trainer/__init__.py": "",
            "trainer/helpers.py": "EPOCHS = 2\n",
            "trainer/main.py": """\
                import sys
                from aijob_worker import report
                from trainer.helpers import EPOCHS
                assert sys.argv[0].endswith("trainer/main.py") and sys.argv[1:] == ["--flag"]
                for epoch in range(1, EPOCHS + 1):
                    report(epoch=epoch, total_epochs=EPOCHS, metrics={"accuracy": 0.5 * epoch})
                """,
        },
    )
    store = tmp_path / "job" / "artifacts"
    store.mkdir(parents=True)
    with tarfile.open(store / "code.tar.gz", "w:gz") as archive:
        archive.add(source / "trainer", arcname="trainer")
    spec = code_spec(module="trainer.main", args=["--flag"])
    del spec["code"]["configMap"]
    spec["code"]["archiveUri"] = f"file://{store.resolve()}/code.tar.gz"
    exit_code, status = run(tmp_path, spec, tmp_path / "no-mount")
    assert exit_code == 0, message(tmp_path)
    assert status["results"]["metrics"]["accuracy"] == 1.0
    assert "modelUri" not in status["results"]


def test_an_archive_member_leaving_the_code_root_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "job" / "artifacts"
    store.mkdir(parents=True)
    with tarfile.open(store / "code.tar", "w") as archive:
        data = b"print('escaped')\n"
        info = tarfile.TarInfo("../evil.py")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    spec = code_spec(entrypoint="evil.py")
    del spec["code"]["configMap"]
    spec["code"]["archiveUri"] = f"file://{store.resolve()}/code.tar"
    exit_code, _ = run(tmp_path, spec, tmp_path / "no-mount")
    assert exit_code == 65
    assert "spec.code.archiveUri" in message(tmp_path)
    assert "would leave the code root" in message(tmp_path)
    assert not (tmp_path / "job" / "evil.py").exists()


@pytest.mark.parametrize(
    ("files", "code", "field", "said"),
    [
        ({"train.py": TRAIN}, {"entrypoint": "missing.py"}, "spec.code.entrypoint", "train.py"),
        ({}, {"entrypoint": "train.py"}, "spec.code.configMap", "does not exist"),
        (
            {"train.py": "import not_installed_anywhere\n"},
            {"entrypoint": "train.py"},
            "spec.code.entrypoint",
            "No module named 'not_installed_anywhere'",
        ),
        ({"train.py": TRAIN}, {"module": "no_such_module"}, "spec.code.module", "no_such_module"),
        ({"train.py": "def broken(:\n"}, {"entrypoint": "train.py"}, "spec.code", "SyntaxError"),
        (
            {"train.py": TRAIN},
            {"entrypoint": "train.py", "args": ["--epochs", "many"]},
            "spec.code.args",
            "argument --epochs: invalid int value: 'many'",
        ),
    ],
    ids=["missing-script", "missing-configmap", "failed-import", "no-module", "syntax", "args"],
)
def test_code_that_cannot_start_is_bad_input_with_its_own_error(
    tmp_path: Path, files: dict[str, str], code: dict[str, Any], field: str, said: str
) -> None:
    directory = write_code(tmp_path / "code", files)
    exit_code, status = run(tmp_path, code_spec(**code), directory)
    assert exit_code == 65
    text = message(tmp_path)
    assert text.startswith(f"bad input: {field}"), text
    assert said in text
    assert "results" not in status


def test_a_crash_in_the_script_is_a_retryable_failure_with_its_traceback(tmp_path: Path) -> None:
    script = "def step():\n    raise RuntimeError('diverged at step 7')\nstep()\n"
    code = write_code(tmp_path / "code", {"train.py": script})
    exit_code, _ = run(tmp_path, code_spec(entrypoint="train.py"), code)
    assert exit_code == 1
    text = message(tmp_path)
    assert "RuntimeError: diverged at step 7" in text
    assert 'train.py", line 2, in step' in text


def test_the_worker_command_runs_a_script_and_passes_its_usage_error_on(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"train.py": TRAIN})
    workdir = tmp_path / "job"
    spec = code_spec(entrypoint="train.py", args=["--epochs"])
    env = offline_env(workdir, spec, AIJOB_CODE_DIR=str(code), PATH="/usr/bin")
    done = subprocess.run(
        [sys.executable, "-m", "aijob_worker"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 65
    text = (workdir / "termination-log").read_text()
    assert "usage: train.py" in text
    assert "argument --epochs: expected one argument" in text


def test_the_callbacks_reporter_is_the_jobs_own_while_the_code_runs(tmp_path: Path) -> None:
    script = (
        "from aijob_worker.reporting import default_reporter\n"
        "default_reporter().report(epoch=1, total_epochs=1, metrics={'f1': 0.75})\n"
    )
    code = write_code(tmp_path / "code", {"train.py": script})
    exit_code, status = run(tmp_path, code_spec(entrypoint="train.py"), code)
    assert exit_code == 0, message(tmp_path)
    assert status["progress"]["metrics"]["f1"] == 0.75
    (f1,) = [series for series in status["metricHistory"]["series"] if series["name"] == "f1"]
    assert f1["x"] == [1]
