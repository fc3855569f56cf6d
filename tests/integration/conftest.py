"""Fixtures every integration suite may use: the AIJob CRD and aijob's PriorityClasses
(applied idempotently and never deleted: see tests/support/prerequisites.py), and the
real node (suites that need it skip, saying why, on a cluster without one)."""

from __future__ import annotations

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Node

from tests.support.prerequisites import apply_crd, ensure_priority_classes
from tests.support.real_node import REAL_NODE_LABEL, ready_real_nodes


@pytest.fixture(scope="session")
def aijob_crd(kube: Client) -> str:
    """aijob's CRDs from crds/ (AIJob, AIEndpoint), server-side applied and Established;
    returns the AIJob CRD's name."""
    return apply_crd(kube)


@pytest.fixture(scope="session")
def priority_classes(kube: Client) -> dict[str, int]:
    """aijob-high, aijob-normal and aijob-low, created when absent."""
    return ensure_priority_classes(kube)


@pytest.fixture
def real_node(kube: Client) -> Node:
    """A Ready node labelled aijob.dev/real-node=true; skips (saying why) without one."""
    nodes = ready_real_nodes(kube)
    if not nodes:
        pytest.skip(
            f"no Ready node labelled {REAL_NODE_LABEL}=true in this cluster "
            "(the local cluster adds one with `make node-up` where the machine allows)"
        )
    return nodes[0]
