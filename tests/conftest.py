"""Session fixtures shared by every suite: the cluster, API clients and a namespace per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube import Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Namespace
from lightkube.types import CascadeType

from tests.support.cluster import ClusterInfo, select_cluster

# pytester: for the tests of the test plugins; no_env_skips: the --no-env-skips option.
pytest_plugins = ["pytester", "tests.support.no_env_skips"]

_LAYER_MARKERS = {"unit": "unit", "integration": "integration", "e2e": "e2e"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by the suite directory it lives in."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for directory, marker in _LAYER_MARKERS.items():
            if directory in parts:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def cluster() -> ClusterInfo:
    """The cluster of this session: KUBECONFIG, opt-in kind, or the local control plane."""
    info = select_cluster()
    os.environ["KUBECONFIG"] = str(info.kubeconfig)
    return info


@pytest.fixture(scope="session")
def kube(cluster: ClusterInfo) -> Client:
    """A lightkube client for the session's cluster."""
    config = KubeConfig.from_file(str(cluster.kubeconfig))
    return Client(config=config, field_manager="aijob-tests")


@pytest.fixture
def namespace(kube: Client) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting for it to go).

    Its Jobs go first: a Job whose pod failed wants a replacement, which a terminating
    namespace refuses, and the Job controller then never removes that pod's tracking
    finalizer, so the namespace would stay Terminating for good (seen with the
    preemption tests' Jobs on the simulated GPU nodes). A deleted Job's pods are
    released by the Job controller at once.
    """
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"})))
    try:
        yield name
    finally:
        kube.deletecollection(Job, namespace=name, cascade=CascadeType.BACKGROUND)
        kube.delete(Namespace, name)
