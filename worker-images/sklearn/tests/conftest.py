"""Helpers of the scikit-learn image tests: run a job in this process or as the entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aijob_worker.offline import offline_env, run_offline

__all__ = ["offline_env", "run_offline", "run_worker_process"]


@pytest.fixture(scope="session")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The model URI of a random forest trained on iris (by the inference and serve tests)."""
    workdir = tmp_path_factory.mktemp("train")
    spec = {
        "task": "training",
        "model": {"type": "random_forest", "hyperparameters": {"nEstimators": 30, "seed": 1}},
        "dataset": {"name": "iris"},
    }
    code, status = run_offline(spec, workdir)
    assert code == 0
    model_uri: str = status["results"]["modelUri"]
    return model_uri


def run_worker_process(
    workdir: Path, spec: dict[str, Any], **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m aijob_worker` as the image's entry point would."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **offline_env(spec, workdir, **extra)}
    return subprocess.run(
        [sys.executable, "-m", "aijob_worker"], env=env, capture_output=True, text=True, timeout=300
    )
