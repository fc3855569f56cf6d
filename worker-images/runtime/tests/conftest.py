"""Fixtures of the runtime tests: an offline job environment and a registry with a real runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aijob_worker.runners import RunnerRegistry
from tests.softmax_runner import SoftmaxRunner


@pytest.fixture
def registry() -> RunnerRegistry:
    """A registry holding the numpy softmax runner."""
    return RunnerRegistry([SoftmaxRunner])


@pytest.fixture(autouse=True)
def _reset_hook() -> Any:
    yield
    SoftmaxRunner.on_epoch = None


def offline_env(tmp_path: Path, spec: dict[str, Any], **extra: str) -> dict[str, str]:
    """The environment of an offline run: status into a file, artifacts under tmp_path."""
    env = {
        "AIJOB_SPEC": json.dumps(spec),
        "AIJOB_ARTIFACT_URI": f"file://{tmp_path}/artifacts",
        "AIJOB_STATUS_FILE": str(tmp_path / "status.json"),
        "AIJOB_PROGRESS_INTERVAL_SECONDS": "0",
        "AIJOB_TERMINATION_MESSAGE_PATH": str(tmp_path / "termination-log"),
    }
    env.update(extra)
    return env


def read_status(tmp_path: Path) -> dict[str, Any]:
    """The status the offline run wrote."""
    loaded: dict[str, Any] = json.loads((tmp_path / "status.json").read_text())
    return loaded
