"""Fixtures of the worker integration tests: the CRD, a work directory, the kubeconfig."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cluster import ClusterInfo


@pytest.fixture
def kubeconfig(cluster: ClusterInfo, aijob_crd: str) -> Path:
    """The session's kubeconfig, once the AIJob CRD is established."""
    return cluster.kubeconfig


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Where a test's workers keep artifacts, logs and termination messages."""
    return tmp_path
