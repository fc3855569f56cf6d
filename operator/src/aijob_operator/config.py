"""Settings of the operator: environment variables `AIJOB_OPERATOR_*`, or the command line.

Everything a cluster administrator may want to change without a new image lives
here: where artifacts are stored (`storage_mode`: `s3`, a bucket and credentials per
tenant, or `hostPath`, a single-tenant development store on the node), where pods that
ask for no GPU may run, the runtime catalog, and the cadence of the level-based re-check.
Read and checked once, at start-up (tolerations into their model, not re-read per reconcile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from aijob_api.storage import DEFAULT_BUCKET_TEMPLATE, StorageMode, tenant_bucket
from aijob_api.tenant_resources import DEFAULT_ALLOWED, TenantResources
from aijob_api.validation import labels_problem
from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from aijob_operator.lease_decide import Timings
from aijob_operator.placement import PodToleration
from aijob_operator.status_config import StatusServerSettings

DEFAULT_ARTIFACTS_HOST_PATH = "/var/lib/aijob/artifacts"


class OperatorConfig(StatusServerSettings):
    """What the operator needs to know beyond the AIJobs themselves (the status server's
    settings in `StatusServerSettings`)."""

    model_config = SettingsConfigDict(env_prefix="AIJOB_OPERATOR_", frozen=True, extra="forbid")

    namespaces: Annotated[
        str,
        Field(description="Comma-separated namespaces to watch; empty for every namespace."),
    ] = ""
    own_namespace: Annotated[
        str | None,
        Field(
            description=(
                "The operator's own (the release's) namespace: its AIJobs and AIEndpoints are "
                "never reconciled, so no job can run beside, or as, aijob's own accounts "
                "(the chart sets it from the pod's namespace)."
            ),
        ),
    ] = None
    pod_label_prefixes: Annotated[
        tuple[str, ...],
        Field(
            description=(
                "Prefixes the keys of spec.podTemplate.labels may start with (JSON list in the "
                "environment); empty: no user label reaches a worker pod."
            )
        ),
    ] = ()
    pod_annotation_prefixes: Annotated[
        tuple[str, ...],
        Field(
            description=(
                "Prefixes the keys of spec.podTemplate.annotations may start with (JSON list in "
                "the environment); empty: no user annotation reaches a worker pod."
            )
        ),
    ] = ()
    catalog_path: Annotated[
        Path | None,
        Field(description="Runtime catalog YAML; the catalog shipped in the package if unset."),
    ] = None
    storage_mode: Annotated[
        StorageMode,
        Field(
            description=(
                "s3: each tenant's artifacts in its own bucket, with its own credentials (the "
                "Secret aijob-storage of its namespace); hostPath: one directory on the node "
                "for every job (single-tenant development only)."
            )
        ),
    ] = StorageMode.S3
    s3_endpoint: Annotated[
        str,
        Field(
            description=(
                "URL of the S3 API workers call (MinIO, Ceph, GCS's S3 interface); empty for "
                "AWS S3 itself."
            ),
            pattern=r"^(https?://[^\s/]+/?)?$",
        ),
    ] = ""
    s3_region: Annotated[str, Field(description="Region of the buckets.", max_length=64)] = (
        "us-east-1"
    )
    s3_bucket_template: Annotated[
        str,
        Field(description="Bucket name of a tenant; {namespace} is replaced by its namespace."),
    ] = DEFAULT_BUCKET_TEMPLATE
    artifacts_host_path: Annotated[
        str,
        Field(description="hostPath directory for artifacts (hostPath mode, when no PVC)."),
    ] = DEFAULT_ARTIFACTS_HOST_PATH
    artifacts_pvc: Annotated[
        str | None,
        Field(description="PersistentVolumeClaim for artifacts, in each job's namespace."),
    ] = None
    cpu_node_selector: Annotated[
        dict[str, str],
        Field(description="nodeSelector for pods that ask for no GPU (JSON in the environment)."),
    ] = Field(default_factory=dict)
    cpu_tolerations: Annotated[
        tuple[PodToleration, ...],
        Field(description="Tolerations for pods that ask for no GPU (JSON in the environment)."),
    ] = ()
    tenant_secrets: Annotated[
        tuple[str, ...],
        Field(
            description=(
                "Globs of the Secret names a tenant's jobs may name in env and envFrom (JSON "
                "in the environment); aijob-storage never."
            )
        ),
    ] = DEFAULT_ALLOWED
    tenant_volumes: Annotated[
        tuple[str, ...],
        Field(
            description=(
                "Globs of the PersistentVolumeClaim names a tenant's jobs may mount (JSON in "
                "the environment); artifacts_pvc never."
            )
        ),
    ] = DEFAULT_ALLOWED
    metrics_port: Annotated[
        int, Field(description="Port of the Prometheus /metrics endpoint; 0 turns it off.", ge=0)
    ] = 8000
    metrics_host: Annotated[str, Field(description="Address the metrics endpoint binds.")] = (
        "0.0.0.0"  # noqa: S104 - scraped from other pods
    )
    recheck_seconds: Annotated[
        float,
        Field(description="Re-check every unfinished AIJob this often, events or not.", gt=0),
    ] = 60.0
    status_interval_seconds: Annotated[
        float,
        Field(
            description=(
                "Least time between two non-final status writes of one AIJob (0: no pacing); "
                "final states are written at once."
            ),
            ge=0,
        ),
    ] = 1.0
    stall_report_timeout_seconds: Annotated[
        int,
        Field(
            description=(
                "Seconds a worker may go without reporting before its job is Stalled, when "
                "neither spec.stall nor the runtime catalog says."
            ),
            ge=1,
        ),
    ] = 1800
    stall_restart_after_seconds: Annotated[
        int,
        Field(
            description=(
                "Seconds without a report after which the attempt is ended and retried, when "
                "neither spec.stall nor the runtime catalog says."
            ),
            ge=1,
        ),
    ] = 3600
    stall_startup_grace_seconds: Annotated[
        int,
        Field(
            description=(
                "Extra seconds before an attempt's first report (imports, dataset loading), "
                "when neither spec.stall nor the runtime catalog says."
            ),
            ge=0,
        ),
    ] = 600
    dependency_grace_seconds: Annotated[
        float,
        Field(
            description="How long an inference job waits for a missing training job to appear.",
            ge=0,
        ),
    ] = 120.0
    workers: Annotated[int, Field(description="Concurrent reconciles.", ge=1, le=256)] = 16
    endpoint_wait_seconds: Annotated[
        float,
        Field(
            description=(
                "How long a job on an endpoint (spec.endpoint) waits for the endpoint to exist "
                "and have a ready replica before it fails."
            ),
            ge=0,
        ),
    ] = 300.0
    endpoint_call_attempts: Annotated[
        int,
        Field(
            description=(
                "Attempts to predict one chunk of a job on an endpoint, the first included "
                "(a replica's refusal of a record is never retried)."
            ),
            ge=1,
            le=10,
        ),
    ] = 3
    endpoint_job_concurrency: Annotated[
        int,
        Field(description="Jobs on endpoints whose records are being sent at once.", ge=1, le=256),
    ] = 8
    progress_interval_seconds: Annotated[
        int, Field(description="Least seconds between two progress writes of a worker.", ge=1)
    ] = 5
    endpoint_load_stale_seconds: Annotated[
        float,
        Field(
            description=(
                "A gateway pod's load entry in an AIEndpoint's status older than this counts for "
                "nothing; with none fresher, the builtin autoscaler holds the replicas (longer "
                "than the gateway's AIJOB_GATEWAY_ENDPOINT_LOAD_REFRESH_SECONDS)."
            ),
            gt=0,
        ),
    ] = 90.0
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"], Field(description="Least level logged.")
    ] = "INFO"
    log_format: Annotated[
        Literal["json", "plain", "full"], Field(description="json for log collectors.")
    ] = "json"
    field_manager: Annotated[str, Field(description="Field manager of the operator's writes.")] = (
        "aijob-operator"
    )
    leader_election: Annotated[
        bool,
        Field(
            description=(
                "Elect one leader among the operator's replicas on a Lease in own_namespace; the "
                "others stand by warm (informers synced, nothing written). Off: this process "
                "writes at once (one replica, local runs)."
            )
        ),
    ] = False
    lease_name: Annotated[str, Field(description="The election's Lease.", min_length=1)] = (
        "aijob-operator"
    )
    lease_duration_seconds: Annotated[
        float, Field(description="A standby takes an unrenewed lease after this.", gt=0)
    ] = 15.0
    renew_deadline_seconds: Annotated[
        float, Field(description="A leader that could not renew for this long stops.", gt=0)
    ] = 10.0
    retry_period_seconds: Annotated[
        float, Field(description="How often candidates read and the leader renews.", gt=0)
    ] = 2.0
    pod_name: Annotated[
        str | None, Field(description="This pod's name (the lease holder's identity's prefix).")
    ] = None

    @property
    def namespace_list(self) -> list[str]:
        """The namespaces to watch; empty means all of them."""
        return [name.strip() for name in self.namespaces.split(",") if name.strip()]

    @field_validator("own_namespace", mode="before")
    @classmethod
    def _empty_namespace_is_unset(cls, value: object) -> object:
        """An empty namespace (as Helm renders an unset value) means none."""
        return None if value == "" else value

    @field_validator("pod_label_prefixes", "pod_annotation_prefixes")
    @classmethod
    def _no_empty_prefix(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """An empty prefix would allow every key: the list must say which."""
        if any(not prefix.strip() for prefix in value):
            raise ValueError("an empty prefix would allow every key; list the prefixes allowed")
        return value

    @field_validator("artifacts_pvc", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty claim name (as Helm renders an unset value) means no PVC."""
        return None if value == "" else value

    @property
    def tenant_resources(self) -> TenantResources:
        """The allow-list of the Secrets and claims tenants' jobs may name."""
        reserved = frozenset({self.artifacts_pvc} if self.artifacts_pvc else ())
        return TenantResources(self.tenant_secrets, self.tenant_volumes, reserved)

    @model_validator(mode="after")
    def _check_bucket_template(self) -> OperatorConfig:
        """The template makes a valid bucket name of a namespace."""
        tenant_bucket("n" * 20, self.s3_bucket_template)
        return self

    @model_validator(mode="after")
    def _check_cpu_node_selector(self) -> OperatorConfig:
        """The node selector's keys and values are labels."""
        problem = labels_problem(self.cpu_node_selector, "cpu_node_selector")
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def lease_timings(self) -> Timings:
        """The election's timings (checked: lease > renew deadline > 1.2 x retry period)."""
        return Timings(
            self.lease_duration_seconds, self.renew_deadline_seconds, self.retry_period_seconds
        )

    @model_validator(mode="after")
    def _check_election(self) -> OperatorConfig:
        """An election needs the namespace of its Lease and consistent timings."""
        if self.leader_election and self.own_namespace is None:
            raise ValueError(
                "leader_election needs own_namespace (AIJOB_OPERATOR_OWN_NAMESPACE): the Lease "
                "lives in the operator's own namespace"
            )
        self.lease_timings  # noqa: B018 - raises ValueError naming the timing at fault
        return self
