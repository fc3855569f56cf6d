"""Fixtures of the gateway's integration tests: a real gateway on loopback, real keys."""

from tests.support.gateway import aijob_crd, api, gateway, tenant

__all__ = ["aijob_crd", "api", "gateway", "tenant"]
