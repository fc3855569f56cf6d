"""Fixtures of the operator's integration tests: the operator in-process (tests/support/
operator.py), the AIJobs of the test's namespace, a real model server."""

from __future__ import annotations

import pytest
from lightkube import Client

from tests.integration.operator.support import AIJobs
from tests.support.model_server import model_server
from tests.support.operator import operator, operator_env

__all__ = ["model_server", "operator", "operator_env"]


@pytest.fixture
def aijobs(kube: Client, namespace: str) -> AIJobs:
    """AIJobs of the test's namespace."""
    return AIJobs(kube, namespace)
