"""Gateway settings, read from the environment (prefix `AIJOB_GATEWAY_`), validated at start."""

from __future__ import annotations

import json
import socket
from typing import Annotated, Self

from aijob_api.contract import ARTIFACTS_MOUNT_PATH
from aijob_api.storage import (
    DEFAULT_BUCKET_TEMPLATE,
    StorageMode,
    TenantStore,
    tenant_bucket,
    tenant_store,
)
from aijob_api.tenant_resources import DEFAULT_ALLOWED, TenantResources
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
MIB = 1024 * 1024


class GatewaySettings(BaseSettings):
    """Everything the gateway can be told; defaults suit a Helm install."""

    model_config = SettingsConfigDict(env_prefix="AIJOB_GATEWAY_", extra="ignore")

    namespace: Annotated[
        str,
        Field(
            description="The gateway's own namespace: where the API key Secret lives.",
            pattern=DNS_LABEL,
            max_length=63,
        ),
    ] = "aijob-system"
    api_keys_secret: Annotated[
        str,
        Field(description="Name of the Secret holding the hashed API keys.", max_length=253),
    ] = "aijob-api-keys"  # noqa: S105 - a Secret name, not a secret
    kubeconfig: Annotated[
        str | None,
        Field(description="Path to a kubeconfig; in-cluster or KUBECONFIG when left out."),
    ] = None
    field_manager: Annotated[
        str, Field(description="Field manager name of the gateway's writes.")
    ] = "aijob-gateway"
    rate_limit_per_second: Annotated[
        float, Field(description="Sustained requests per second allowed per API key.", gt=0)
    ] = 20.0
    rate_limit_burst: Annotated[
        int, Field(description="Requests a key may send at once before being limited.", ge=1)
    ] = 40
    inference_rate_limit_per_second: Annotated[
        float,
        Field(
            description="Sustained inference requests per second allowed per API key (the "
            "inference routes have their own budget: a model server answers many small requests).",
            gt=0,
        ),
    ] = 500.0
    inference_rate_limit_burst: Annotated[
        int, Field(description="Inference requests a key may send at once.", ge=1)
    ] = 1000
    default_page_size: Annotated[
        int, Field(description="Jobs per page when the client gives no limit.", ge=1, le=1000)
    ] = 50
    max_page_size: Annotated[
        int, Field(description="Largest page a client may ask for.", ge=1, le=5000)
    ] = 500
    kube_timeout_seconds: Annotated[
        float, Field(description="Timeout of one call to the API server.", gt=0)
    ] = 10.0
    watch_timeout_seconds: Annotated[
        int,
        Field(description="Server-side timeout of one watch request (it is then renewed).", ge=10),
    ] = 300
    nodes_cache_seconds: Annotated[
        float,
        Field(description="How long one read of nodes and pods serves the nodes view.", ge=0),
    ] = 2.0
    readiness_probe_seconds: Annotated[
        float,
        Field(description="How long a successful API server probe counts for /readyz.", ge=0),
    ] = 5.0
    inference_queue_limit: Annotated[
        int,
        Field(
            description=(
                "Requests per endpoint that may wait for a free replica slot; one more is 429."
            ),
            ge=0,
        ),
    ] = 256
    inference_max_attempts: Annotated[
        int,
        Field(description="Attempts per inference request, on different replicas.", ge=1, le=10),
    ] = 3
    inference_max_body_bytes: Annotated[
        int,
        Field(description="Largest body of an inference request (413 above).", ge=1024),
    ] = 16 * MIB
    max_body_bytes: Annotated[
        int,
        Field(
            description=(
                "Largest request body of every other route (413 above, refused before it is "
                "parsed and before the API key is checked)."
            ),
            ge=1024,
        ),
    ] = MIB
    client_rate_limit_per_second: Annotated[
        float,
        Field(
            description=(
                "Sustained requests per second allowed per client address, checked before the "
                "API key (IPv6 clients are counted by their /64)."
            ),
            gt=0,
        ),
    ] = 1000.0
    client_rate_limit_burst: Annotated[
        int, Field(description="Requests one client address may send at once.", ge=1)
    ] = 2000
    client_rate_limit_max_clients: Annotated[
        int,
        Field(
            description="Client addresses whose budgets are remembered (the least recent go).",
            ge=1,
        ),
    ] = 100_000
    forwarded_allow_ips: Annotated[
        str,
        Field(
            description=(
                "Proxies (comma-separated addresses or networks, `*` for any) whose "
                "X-Forwarded-For names the client: its address is what the per-client limit "
                "counts. Only set it to proxies in front of the gateway."
            )
        ),
    ] = "127.0.0.1"
    log_streams_per_key: Annotated[
        int,
        Field(description="Followed log streams one API key may hold open at once.", ge=1),
    ] = 4
    log_streams_total: Annotated[
        int,
        Field(
            description=(
                "Followed log streams the gateway holds open at once over all keys (each holds "
                "one connection of the log client's own pool, which has 100; keep it below)."
            ),
            ge=1,
            le=90,
        ),
    ] = 64
    logs_max_bytes: Annotated[
        int,
        Field(
            description=(
                "Largest log a non-followed read returns (limitBytes to the API server); a "
                "longer one is cut there and ends with a line saying so."
            ),
            ge=1024,
        ),
    ] = 8 * MIB
    keys_stale_after_seconds: Annotated[
        float,
        Field(
            description=(
                "How long the API keys keep being checked against the last known Secret while "
                "its watch is broken; after that every key check answers 503 (fail closed)."
            ),
            gt=0,
        ),
    ] = 30.0
    keys_watch_timeout_seconds: Annotated[
        int,
        Field(
            description=(
                "Server-side timeout of one watch of the key Secret: a watch silent for 30 s "
                "longer is presumed dead and renewed, so it bounds how long a half-open "
                "connection can hide a revocation."
            ),
            ge=10,
        ),
    ] = 60
    tls_cert_file: Annotated[
        str | None,
        Field(description="PEM certificate (chain) to serve HTTPS with; plain HTTP when unset."),
    ] = None
    tls_key_file: Annotated[
        str | None, Field(description="PEM private key of `tls_cert_file`.")
    ] = None
    inference_connect_timeout_seconds: Annotated[
        float, Field(description="Timeout of connecting to a replica.", gt=0)
    ] = 2.0
    inference_max_connections: Annotated[
        int, Field(description="Connections to replicas the gateway keeps open at most.", ge=1)
    ] = 1000
    instance: Annotated[
        str,
        Field(
            description=(
                "This gateway pod's name: the key of its entry in AIEndpoints' "
                "status.gatewayLoad (the host name, which is the pod's name in a pod)."
            ),
            min_length=1,
            max_length=253,
        ),
    ] = Field(default_factory=socket.gethostname)
    endpoint_load_interval_seconds: Annotated[
        float,
        Field(
            description="Least time between two writes of one endpoint's load into its status.",
            gt=0,
        ),
    ] = 3.0
    endpoint_load_refresh_seconds: Annotated[
        float,
        Field(
            description=(
                "An endpoint's load is written again after this long even when unchanged, so "
                "the operator knows it is current (shorter than its "
                "AIJOB_OPERATOR_ENDPOINT_LOAD_STALE_SECONDS)."
            ),
            gt=0,
        ),
    ] = 30.0
    endpoint_load_window_seconds: Annotated[
        float,
        Field(description="The window of the requests per second it publishes.", gt=0),
    ] = 10.0
    storage_mode: Annotated[
        StorageMode,
        Field(
            description=(
                "Where jobs keep their artifacts, as the operator is told "
                "(AIJOB_OPERATOR_STORAGE_MODE): a job naming a URI outside its tenant's store "
                "is answered 422 naming the field, by the rule the operator applies."
            )
        ),
    ] = StorageMode.S3
    s3_bucket_template: Annotated[
        str,
        Field(description="Bucket name of a tenant; {namespace} is replaced by its namespace."),
    ] = DEFAULT_BUCKET_TEMPLATE
    s3_endpoint: Annotated[
        str,
        Field(
            description=(
                "URL of the S3 API the gateway reads artifacts from (as the operator's "
                "AIJOB_OPERATOR_S3_ENDPOINT; empty for AWS S3 itself). It reads with each "
                "tenant's own credentials, from the tenant's Secret aijob-storage."
            ),
            pattern=r"^(https?://[^\s/]+/?)?$",
        ),
    ] = ""
    s3_region: Annotated[str, Field(description="Region of the buckets.", max_length=64)] = (
        "us-east-1"
    )
    s3_presign_endpoint: Annotated[
        str,
        Field(
            description=(
                "URL of the S3 API as clients reach it, for the signed URLs of "
                "`?redirect=true` (when it differs from s3_endpoint); s3_endpoint when empty."
            ),
            pattern=r"^(https?://[^\s/]+/?)?$",
        ),
    ] = ""
    artifact_url_seconds: Annotated[
        int,
        Field(description="How long a signed artifact URL stays valid.", ge=10, le=3600),
    ] = 300
    artifact_list_limit: Annotated[
        int,
        Field(description="Most artifacts one listing returns (the rest: truncated).", ge=1),
    ] = 1000
    tenant_secrets: Annotated[
        tuple[str, ...],
        Field(description="As the operator's: globs of the Secrets jobs may name (JSON list)."),
    ] = DEFAULT_ALLOWED
    tenant_volumes: Annotated[
        tuple[str, ...],
        Field(description="As the operator's: globs of the claims jobs may mount (JSON list)."),
    ] = DEFAULT_ALLOWED
    log_level: Annotated[str, Field(description="Python log level name.")] = "INFO"
    access_log: Annotated[bool, Field(description="Log one JSON line per request.")] = True
    host: Annotated[str, Field(description="Address `python -m aijob_gateway` binds.")] = "0.0.0.0"  # noqa: S104
    port: Annotated[int, Field(description="Port `python -m aijob_gateway` listens on.")] = 8000

    def tenant_store(self, namespace: str) -> TenantStore:
        """The store of tenant `namespace`, as the operator and the pods see it."""
        return tenant_store(
            self.storage_mode,
            namespace,
            bucket_template=self.s3_bucket_template,
            artifacts_root=ARTIFACTS_MOUNT_PATH,
        )

    @field_validator("tenant_secrets", "tenant_volumes", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        """A JSON list as the chart renders it (also when not read from the environment)."""
        return json.loads(value) if isinstance(value, str) else value

    @property
    def tenant_resources(self) -> TenantResources:
        """The operator's allow-list of Secrets and claims (its reserved claim aside)."""
        return TenantResources(self.tenant_secrets, self.tenant_volumes)

    @model_validator(mode="after")
    def _check_bucket_template(self) -> Self:
        tenant_bucket("n" * 20, self.s3_bucket_template)  # ValueError names the template
        return self

    @model_validator(mode="after")
    def _tls_pair(self) -> Self:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            missing = "tls_key_file" if self.tls_key_file is None else "tls_cert_file"
            raise ValueError(f"{missing}: HTTPS needs both a certificate and its key")
        return self
