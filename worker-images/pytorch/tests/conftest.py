"""Helpers of the PyTorch image tests: run a job in this process or as the entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aijob_worker.offline import offline_env, run_offline

__all__ = [
    "bad_hyperparameters_message",
    "bad_input_message",
    "offline_env",
    "run_offline",
    "run_worker_process",
]


def bad_input_message(spec: dict[str, Any], workdir: Path) -> str:
    """Run a job that must fail as bad input (exit 65); its termination message."""
    code, _ = run_offline(spec, workdir)
    assert code == 65
    return (workdir / "termination-log").read_text()


def bad_hyperparameters_message(
    model_type: str, hyperparameters: dict[str, Any], dataset: str, workdir: Path
) -> str:
    """The termination message of a training job refused for its hyperparameters."""
    spec = {
        "task": "training",
        "model": {"type": model_type, "hyperparameters": hyperparameters},
        "dataset": {"name": dataset},
    }
    return bad_input_message(spec, workdir)


def run_worker_process(
    workdir: Path, spec: dict[str, Any], **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m aijob_worker` as the image's entry point would."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **offline_env(spec, workdir, **extra)}
    return subprocess.run(
        [sys.executable, "-m", "aijob_worker"], env=env, capture_output=True, text=True, timeout=600
    )
