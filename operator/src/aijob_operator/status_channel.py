"""What a worker pod is told about the status channel: the URL, the name its certificate is
checked against, the CA; built once at start-up (`resolve_channel`) from the settings.

`StatusChannel.env()` is what the pod builder puts in the worker container's environment
(`aijob_api.status_report`'s names). With no URL (the channel off, or nothing to resolve)
there is no channel: workers report nowhere but their results file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aijob_api.status_report import ENV_STATUS_CA, ENV_STATUS_SERVER_NAME, ENV_STATUS_URL
from aijob_kube.errors import kube_errors
from lightkube import AsyncClient
from lightkube.resources.core_v1 import Service

from aijob_operator.status_config import StatusServerSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatusChannel:
    """Where and how workers reach the status server."""

    url: str
    server_name: str | None
    ca_pem: str | None

    def env(self) -> dict[str, str]:
        """The worker container's environment for the channel (the token file's variable is
        the pod builder's: it mounts the projected token)."""
        env = {ENV_STATUS_URL: self.url}
        if self.server_name:
            env[ENV_STATUS_SERVER_NAME] = self.server_name
        if self.ca_pem:
            env[ENV_STATUS_CA] = self.ca_pem
        return env


def server_name_of(settings: StatusServerSettings, own_namespace: str | None) -> str | None:
    """The configured server name, else `<status_service>.<own_namespace>.svc`."""
    if settings.status_server_name:
        return settings.status_server_name
    if settings.status_service and own_namespace:
        return f"{settings.status_service}.{own_namespace}.svc"
    return None


def channel_of(
    settings: StatusServerSettings, own_namespace: str | None, url: str | None
) -> StatusChannel | None:
    """The channel from the settings and a resolved URL (pure); None without a URL."""
    if url is None:
        return None
    ca = settings.status_ca_file.read_text() if settings.status_ca_file else None
    return StatusChannel(url.rstrip("/"), server_name_of(settings, own_namespace), ca)


def url_of_service(body: Mapping[str, Any], port_name: str | None = None) -> str | None:
    """`https://<clusterIP>:<port>` of a Service body (its first port, or the one named)."""
    spec = body.get("spec") or {}
    ip = spec.get("clusterIP")
    ports = [port for port in spec.get("ports") or () if isinstance(port, dict)]
    if port_name is not None:
        ports = [port for port in ports if port.get("name") == port_name]
    if not ip or ip == "None" or not ports:
        return None
    host = f"[{ip}]" if ":" in str(ip) else str(ip)
    return f"https://{host}:{ports[0].get('port')}"


async def resolve_channel(
    settings: StatusServerSettings, own_namespace: str | None, client: AsyncClient
) -> StatusChannel | None:
    """The channel at start-up: `status_url`, else the address of `status_service` in the
    operator's namespace (no DNS needed in the pods)."""
    url = settings.status_url
    if url is None and settings.status_service and own_namespace:
        with kube_errors(f"reading Service {own_namespace}/{settings.status_service}"):
            service = await client.get(Service, settings.status_service, namespace=own_namespace)
        url = url_of_service(service.to_dict())
        if url is None:
            logger.warning(
                "Service %s/%s has no clusterIP and port: no status channel",
                own_namespace, settings.status_service,
            )  # fmt: skip
    return channel_of(settings, own_namespace, url)
