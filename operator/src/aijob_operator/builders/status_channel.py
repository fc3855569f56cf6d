"""A worker pod on the status channel: no Kubernetes API token, only an audience-bound one.

With the operator's `status_channel` on, a job's pod (and every pod of a group: one
Indexed Job, one template) runs as its namespace's `default` ServiceAccount with
`automountServiceAccountToken: false`, so no API token is mounted at all. It gets instead a
projected `serviceAccountToken` volume: a token bound to the pod, for the audience
`STATUS_AUDIENCE` only (the API server refuses it; only the operator's TokenReview with that
audience accepts it), renewed by the kubelet, mounted read-only at `TOKEN_MOUNT_DIR`; and the
status server's URL, the name its certificate is checked for and its CA (inline) as
variables (`aijob_api.status_report`). The operator then writes no per-job ServiceAccount,
Role or RoleBinding: creating a job is one write after the AIJob. Model-server pods
(`builders.endpoint_deployment`) mount no token either way and report nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from aijob_api.status_report import (
    ENV_STATUS_CA,
    ENV_STATUS_SERVER_NAME,
    ENV_STATUS_TOKEN_FILE,
    ENV_STATUS_URL,
    STATUS_AUDIENCE,
    TOKEN_EXPIRATION_SECONDS,
    TOKEN_FILE_NAME,
    TOKEN_MOUNT_DIR,
)
from lightkube.models.core_v1 import (
    EnvVar,
    ProjectedVolumeSource,
    ServiceAccountTokenProjection,
    Volume,
    VolumeMount,
    VolumeProjection,
)

from aijob_operator.config import OperatorConfig

STATUS_TOKEN_VOLUME: Final = "aijob-status-token"  # noqa: S105 - a volume's name
"""The projected token's volume (no job volume can take the name: those are `user-<n>`)."""


class ChannelFacts(Protocol):
    """What a worker pod is told about the status server (the start-up's resolved
    `aijob_operator.status_channel.StatusChannel`, or a `WorkerChannel`)."""

    @property
    def url(self) -> str:
        """`https://<host>:<port>` (the Service's address where Services have no DNS)."""

    @property
    def ca_pem(self) -> str | None:
        """The CA that signed the server's certificate (PEM)."""

    @property
    def server_name(self) -> str | None:
        """The name the certificate is checked for, when the URL holds an address."""


@dataclass(frozen=True)
class WorkerChannel:
    """A channel named by the settings alone (`status_url`), or by a test."""

    url: str
    ca_pem: str | None
    server_name: str | None = None


def worker_channel(
    config: OperatorConfig, resolved: ChannelFacts | None = None
) -> ChannelFacts | None:
    """The channel workers are told about (None: `status_channel` off, they patch their
    AIJob themselves): the one resolved at start-up (the Service's clusterIP), else the
    settings' `status_url` with the CA of `status_ca_file`. On, without a URL or a CA, it
    is a set-up error (ValueError): the operator does not start.
    """
    if not config.status_channel:
        return None
    channel: ChannelFacts | None = resolved
    if channel is None and config.status_url:
        server_name = config.status_server_name
        if server_name is None and config.status_service:
            server_name = f"{config.status_service}.{config.own_namespace}.svc"
        ca_pem = config.status_ca_file.read_text() if config.status_ca_file else None
        channel = WorkerChannel(config.status_url.rstrip("/"), ca_pem, server_name)
    if channel is None or not channel.ca_pem:
        raise ValueError(
            "status_channel needs the server's URL (status_url, or status_service resolved at "
            "start-up) and its CA (status_ca_file)"
        )
    return channel


def channel_env(channel: ChannelFacts) -> dict[str, str]:
    """The variables of the channel (the token's file, the URL, the name, the CA)."""
    env = {
        ENV_STATUS_URL: channel.url,
        ENV_STATUS_TOKEN_FILE: f"{TOKEN_MOUNT_DIR}/{TOKEN_FILE_NAME}",
        ENV_STATUS_CA: channel.ca_pem or "",
    }
    if channel.server_name:
        env[ENV_STATUS_SERVER_NAME] = channel.server_name
    return env


def channel_env_vars(channel: ChannelFacts | None) -> list[EnvVar]:
    """`channel_env` as container variables (none without a channel)."""
    if channel is None:
        return []
    return [EnvVar(name=name, value=value) for name, value in channel_env(channel).items()]


def token_volumes(channel: ChannelFacts | None) -> list[Volume]:
    """The projected, audience-bound token's volume (none without a channel)."""
    if channel is None:
        return []
    projection = ServiceAccountTokenProjection(
        audience=STATUS_AUDIENCE,
        expirationSeconds=TOKEN_EXPIRATION_SECONDS,
        path=TOKEN_FILE_NAME,
    )
    return [
        Volume(
            name=STATUS_TOKEN_VOLUME,
            projected=ProjectedVolumeSource(
                sources=[VolumeProjection(serviceAccountToken=projection)]
            ),
        )
    ]


def token_mounts(channel: ChannelFacts | None) -> list[VolumeMount]:
    """Where the token is mounted, read-only (none without a channel)."""
    if channel is None:
        return []
    return [VolumeMount(name=STATUS_TOKEN_VOLUME, mountPath=TOKEN_MOUNT_DIR, readOnly=True)]
