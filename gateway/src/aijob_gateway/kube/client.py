"""The lightkube client of the gateway and the generic AIJob resource class."""

from __future__ import annotations

from typing import Any

import httpx2
from aijob_api.constants import GROUP, KIND, PLURAL, VERSION
from lightkube import AsyncClient, KubeConfig
from lightkube.generic_resource import create_namespaced_resource

from aijob_gateway.settings import GatewaySettings

AIJobResource: Any = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)
"""The AIJob custom resource, as lightkube addresses it (objects are plain dicts)."""


def make_client(settings: GatewaySettings) -> AsyncClient:
    """An async client: the kubeconfig from the settings, else in-cluster or KUBECONFIG."""
    config = KubeConfig.from_file(settings.kubeconfig) if settings.kubeconfig else None
    return AsyncClient(
        config=config,
        field_manager=settings.field_manager,
        timeout=httpx2.Timeout(settings.kube_timeout_seconds),
    )
