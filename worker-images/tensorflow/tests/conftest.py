"""Helpers of the TensorFlow image tests: run a job in this process or as the entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aijob_worker.offline import offline_env, run_offline

__all__ = ["offline_env", "run_offline", "run_worker_process"]


def run_worker_process(
    workdir: Path, spec: dict[str, Any], **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m aijob_worker` as the image's entry point would."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **offline_env(spec, workdir, **extra)}
    return subprocess.run(
        [sys.executable, "-m", "aijob_worker"], env=env, capture_output=True, text=True, timeout=300
    )
