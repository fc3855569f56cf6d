"""Fixtures of the CLI's integration tests: a real gateway on loopback, real keys."""

from tests.support.gateway import api, gateway, tenant

__all__ = ["api", "gateway", "tenant"]
