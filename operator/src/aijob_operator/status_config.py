"""Settings of the status server (`AIJOB_OPERATOR_STATUS_*`): where it listens, its TLS, what
workers are told, and its limits (coalescing, rate per pod, token cache).

A base of `OperatorConfig` (same prefix, same environment), kept apart so `config.py` stays
readable. The server runs when both `status_tls_cert_file` and `status_tls_key_file` are
set; whether pods are told to report to it is `status_channel`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StatusServerSettings(BaseSettings):
    """The status channel's settings (read with the rest of the operator's)."""

    model_config = SettingsConfigDict(env_prefix="AIJOB_OPERATOR_", frozen=True, extra="forbid")

    status_channel: Annotated[
        bool,
        Field(
            description=(
                "Workers report to the operator's status server (no Kubernetes credentials in "
                "their pods); off: they patch their AIJob's status themselves."
            )
        ),
    ] = False
    status_host: Annotated[str, Field(description="Address the status server binds.")] = "0.0.0.0"  # noqa: S104 - workers reach it from their pods
    status_port: Annotated[
        int, Field(description="Port of the status server (HTTPS).", ge=0, le=65535)
    ] = 8443
    status_tls_cert_file: Annotated[
        Path | None, Field(description="The server's certificate (PEM, chain first).")
    ] = None
    status_tls_key_file: Annotated[Path | None, Field(description="The certificate's key.")] = None
    status_ca_file: Annotated[
        Path | None,
        Field(description="The CA (PEM) that signed the certificate, handed to workers."),
    ] = None
    status_url: Annotated[
        str | None,
        Field(
            description=(
                "The URL workers report to, https://<host>:<port>; unset: the clusterIP and "
                "port of status_service, read at start-up."
            ),
            pattern=r"^https://[^\s/]+/?$",
        ),
    ] = None
    status_service: Annotated[
        str | None, Field(description="The Service in own_namespace that fronts the server.")
    ] = None
    status_server_name: Annotated[
        str | None,
        Field(
            description=(
                "The name workers check the certificate against; default "
                "<status_service>.<own_namespace>.svc."
            )
        ),
    ] = None
    status_write_interval_seconds: Annotated[
        float,
        Field(
            description=(
                "Least time between two status writes of one AIJob's reports (they are merged "
                "meanwhile); a final report is written at once."
            ),
            ge=0,
        ),
    ] = 2.0
    status_pod_rate: Annotated[
        float, Field(description="Reports per second a pod may send, on average.", gt=0)
    ] = 2.0
    status_pod_burst: Annotated[
        int, Field(description="Reports a pod may send at once above its rate.", ge=1)
    ] = 10
    status_token_cache_seconds: Annotated[
        float,
        Field(
            description=(
                "Longest time a TokenReview's answer is reused (never past the token's exp)."
            ),
            ge=0,
        ),
    ] = 300.0
    status_token_cache_size: Annotated[
        int, Field(description="Most tokens whose reviews are remembered.", ge=1)
    ] = 10000

    @field_validator(
        "status_tls_cert_file",
        "status_tls_key_file",
        "status_ca_file",
        "status_url",
        "status_service",
        "status_server_name",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty value (as Helm renders an unset one) means none."""
        return None if value == "" else value

    @property
    def status_server_enabled(self) -> bool:
        """Whether the status server runs (its certificate and key are both set)."""
        return self.status_tls_cert_file is not None and self.status_tls_key_file is not None

    @model_validator(mode="after")
    def _check_tls(self) -> StatusServerSettings:
        """The certificate and its key come together."""
        if (self.status_tls_cert_file is None) != (self.status_tls_key_file is None):
            raise ValueError(
                "status_tls_cert_file and status_tls_key_file are set together (or neither)"
            )
        return self
