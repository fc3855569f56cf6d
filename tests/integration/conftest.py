"""Fixtures every integration suite may use: the AIJob CRD and aijob's PriorityClasses
(applied idempotently and never deleted: see tests/support/prerequisites.py)."""

from __future__ import annotations

import pytest
from lightkube import Client

from tests.support.prerequisites import apply_crd, ensure_priority_classes


@pytest.fixture(scope="session")
def aijob_crd(kube: Client) -> str:
    """The AIJob CRD from crds/, server-side applied and Established; returns its name."""
    return apply_crd(kube)


@pytest.fixture(scope="session")
def priority_classes(kube: Client) -> dict[str, int]:
    """aijob-high, aijob-normal and aijob-low, created when absent."""
    return ensure_priority_classes(kube)
