"""Fixtures of the gateway's integration tests: a real gateway on loopback, real keys."""

from tests.support.gateway import api, gateway, other_tenant, tenant

__all__ = ["api", "gateway", "other_tenant", "tenant"]
