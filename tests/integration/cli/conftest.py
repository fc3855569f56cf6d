"""Fixtures of the CLI's integration tests: a real gateway on loopback, real keys,
a real model server."""

from tests.support.gateway import api, gateway, tenant
from tests.support.model_server import model_server

__all__ = ["api", "gateway", "model_server", "tenant"]
