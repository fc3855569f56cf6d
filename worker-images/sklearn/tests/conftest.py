"""Helpers of the scikit-learn image tests: run a job offline, read what it reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aijob_worker.job import run_job
from aijob_worker.signals import StopFlag


def offline_env(workdir: Path, spec: dict[str, Any], **extra: str) -> dict[str, str]:
    """A job environment with no cluster: status into a file, artifacts under workdir."""
    env = {
        "AIJOB_SPEC": json.dumps(spec),
        "AIJOB_ARTIFACT_URI": f"file://{workdir}/artifacts",
        "AIJOB_STATUS_FILE": str(workdir / "status.json"),
        "AIJOB_PROGRESS_INTERVAL_SECONDS": "0",
        "AIJOB_TERMINATION_MESSAGE_PATH": str(workdir / "termination-log"),
    }
    env.update(extra)
    return env


def run_offline(workdir: Path, spec: dict[str, Any], **extra: str) -> tuple[int, dict[str, Any]]:
    """Run a job in this process; return its exit code and the status it wrote."""
    workdir.mkdir(parents=True, exist_ok=True)
    code = run_job(offline_env(workdir, spec, **extra), stop=StopFlag())
    status_file = workdir / "status.json"
    status = json.loads(status_file.read_text()) if status_file.exists() else {}
    return code, status


def run_worker_process(
    workdir: Path, spec: dict[str, Any], **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m aijob_worker` as the image's entry point would."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **offline_env(workdir, spec, **extra)}
    return subprocess.run(
        [sys.executable, "-m", "aijob_worker"], env=env, capture_output=True, text=True, timeout=300
    )
