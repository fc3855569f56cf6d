"""Fixtures of the runtime tests: an offline job environment and a registry with a real runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aijob_worker import offline
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
    return offline.offline_env(spec, tmp_path, **extra)


def read_status(tmp_path: Path) -> dict[str, Any]:
    """The status the offline run wrote."""
    return offline.read_offline_status(tmp_path)
