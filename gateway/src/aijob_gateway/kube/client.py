"""The lightkube client of the gateway (the resource classes are `aijob_kube.resources`)."""

from __future__ import annotations

import httpx2
from lightkube import AsyncClient, KubeConfig

from aijob_gateway.settings import GatewaySettings


def make_client(settings: GatewaySettings) -> AsyncClient:
    """An async client: the kubeconfig from the settings, else in-cluster or KUBECONFIG."""
    config = KubeConfig.from_file(settings.kubeconfig) if settings.kubeconfig else None
    return AsyncClient(
        config=config,
        field_manager=settings.field_manager,
        timeout=httpx2.Timeout(settings.kube_timeout_seconds),
    )
