"""Fixtures of the gateway's integration tests: a real gateway on loopback, real keys,
a real model server, and the operator (in-process) for the jobs it runs on endpoints."""

from tests.support.gateway import api, gateway, other_tenant, tenant
from tests.support.model_server import model_server
from tests.support.operator import operator, operator_env

__all__ = [
    "api",
    "gateway",
    "model_server",
    "operator",
    "operator_env",
    "other_tenant",
    "tenant",
]
