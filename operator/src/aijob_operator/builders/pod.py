"""What every worker pod shares, a job's or an endpoint's: security, storage, placement and
resources.

Job pods and model-server pods run the same images as the same non-root user on a
read-only root filesystem, reach the same artifact store and mount a scratch directory,
and are placed the same way. The store: in `s3` mode the tenant's bucket, the endpoint
and region as plain variables and the tenant's own credentials only through
`secretKeyRef` from the Secret `aijob-storage` of the pod's namespace (no hostPath, so
the pods pass Pod Security `restricted`); in `hostPath` mode a node directory (or a
PVC) mounted at the artifact path. Placement: the runtime's own node selector,
tolerations and affinity (from the catalog) on every pod, a job's GPU product and own node
selector on its pods; a pod asking for GPUs also tolerates the GPU nodes' taint, one asking
for none gets the operator's CPU node selector and tolerations. A job's own variables,
Secrets (`env`, `envFrom`) and claims (`volumes`) name objects of the pod's namespace only:
the pod spec has no way to name another's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from aijob_api import contract
from aijob_api.constants import GPU_RESOURCE
from aijob_api.environment import GPU_PRODUCT_LABEL, PlacementSpec, VolumeSpec
from aijob_api.environment import EnvFromSource as UserEnvFromSource
from aijob_api.environment import EnvVar as UserEnvVar
from aijob_api.spec import ResourceSpec
from aijob_api.storage import (
    DEFAULT_BUCKET_TEMPLATE,
    SECRET_ACCESS_KEY,
    SECRET_SECRET_KEY,
    STORAGE_SECRET,
    StorageMode,
    TenantStore,
    tenant_store,
)
from lightkube.models.core_v1 import (
    Affinity,
    Capabilities,
    EmptyDirVolumeSource,
    EnvFromSource,
    EnvVar,
    EnvVarSource,
    HostPathVolumeSource,
    PersistentVolumeClaimVolumeSource,
    PodSecurityContext,
    ResourceRequirements,
    SeccompProfile,
    SecretEnvSource,
    SecretKeySelector,
    SecurityContext,
    Toleration,
    Volume,
    VolumeMount,
)

from aijob_operator.builders.status_channel import ChannelFacts, worker_channel
from aijob_operator.catalog import ResolvedRuntime
from aijob_operator.config import OperatorConfig
from aijob_operator.placement import PodToleration

USER_VOLUME_PREFIX: Final = "user-"
"""The job's own volumes are `user-0`, `user-1`, ... (apart from the runtime's names)."""
ARTIFACTS_VOLUME: Final = "artifacts"
SCRATCH_VOLUME: Final = "scratch"
GPU_TOLERATION: Final = Toleration(key=GPU_RESOURCE, operator="Exists", effect="NoSchedule")


@dataclass(frozen=True)
class PodSettings:
    """Cluster-level choices for worker pods, from the operator's settings."""

    artifacts_host_path: str = "/var/lib/aijob/artifacts"
    artifacts_pvc: str | None = None
    cpu_node_selector: dict[str, str] = field(default_factory=dict)
    cpu_tolerations: tuple[PodToleration, ...] = ()
    progress_interval_seconds: int = 5
    storage_mode: StorageMode = StorageMode.HOST_PATH
    """The operator's default is s3 (`pod_settings`); hostPath here keeps builders' tests short."""
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_bucket_template: str = DEFAULT_BUCKET_TEMPLATE
    status_channel: ChannelFacts | None = None
    """Workers report to the operator's status server, with no API token (`status_channel`)."""

    @property
    def mounts_artifacts(self) -> bool:
        """Whether pods mount the artifact volume (hostPath mode) rather than call S3."""
        return self.storage_mode is StorageMode.HOST_PATH

    def store(self, namespace: str) -> TenantStore:
        """The store of the tenant `namespace`, as pods see it."""
        return tenant_store(
            self.storage_mode,
            namespace,
            bucket_template=self.s3_bucket_template,
            artifacts_root=contract.ARTIFACTS_MOUNT_PATH,
        )


def pod_settings(config: OperatorConfig) -> PodSettings:
    """The worker pods' settings from the operator's (no status channel: `job_pod_settings`)."""
    return PodSettings(
        artifacts_host_path=config.artifacts_host_path,
        artifacts_pvc=config.artifacts_pvc,
        cpu_node_selector=dict(config.cpu_node_selector),
        cpu_tolerations=config.cpu_tolerations,
        progress_interval_seconds=config.progress_interval_seconds,
        storage_mode=config.storage_mode,
        s3_endpoint=config.s3_endpoint,
        s3_region=config.s3_region,
        s3_bucket_template=config.s3_bucket_template,
    )


def job_pod_settings(config: OperatorConfig, channel: ChannelFacts | None = None) -> PodSettings:
    """A job's pods' settings: `pod_settings` and, with `status_channel` on, the channel the
    start-up resolved (`channel`) or the settings name (ValueError without one)."""
    return replace(pod_settings(config), status_channel=worker_channel(config, channel))


def pod_security_context() -> PodSecurityContext:
    """The worker images' user (never root), its group on the volumes, the default seccomp."""
    return PodSecurityContext(
        runAsNonRoot=True,
        runAsUser=contract.RUN_AS_USER,
        runAsGroup=contract.RUN_AS_USER,
        fsGroup=contract.RUN_AS_USER,
        seccompProfile=SeccompProfile(type="RuntimeDefault"),
    )


def container_security_context() -> SecurityContext:
    """No privilege escalation, no capability, a read-only root filesystem."""
    return SecurityContext(
        allowPrivilegeEscalation=False,
        readOnlyRootFilesystem=True,
        runAsNonRoot=True,
        capabilities=Capabilities(drop=["ALL"]),
    )


def tolerations(runtime: ResolvedRuntime, settings: PodSettings, gpus: int) -> list[Toleration]:
    """The runtime's own tolerations, then the GPU nodes' (with GPUs) or the CPU pods' ones."""
    own = [item.to_kubernetes() for item in runtime.runtime.placement.tolerations]
    if gpus:
        return [*own, GPU_TOLERATION]
    return own + [item.to_kubernetes() for item in settings.cpu_tolerations]


def node_selector(
    runtime: ResolvedRuntime, settings: PodSettings, gpus: int, job: PlacementSpec | None = None
) -> dict[str, str]:
    """The CPU pods' node selector (no GPU asked), with the runtime's own on top, then the
    job's own (keys the catalog allows, checked before) and its GPU product."""
    cpu = {} if gpus else settings.cpu_node_selector
    own: dict[str, str] = {}
    if job is not None:
        own = dict(job.node_selector)
        if job.gpu_product is not None:
            own[GPU_PRODUCT_LABEL] = job.gpu_product
    return {**cpu, **own, **runtime.runtime.placement.node_selector}


def affinity(runtime: ResolvedRuntime) -> Affinity | None:
    """The runtime's affinity from the catalog (users write none)."""
    return runtime.runtime.placement.affinity_model()


def user_env(env: Sequence[UserEnvVar]) -> list[EnvVar]:
    """The job's own variables: values, or a key of a Secret of the pod's namespace."""
    return [
        EnvVar(name=var.name, value=var.value)
        if var.value_from is None
        else EnvVar(
            name=var.name,
            valueFrom=EnvVarSource(
                secretKeyRef=SecretKeySelector(
                    name=var.value_from.secret_key_ref.name, key=var.value_from.secret_key_ref.key
                )
            ),
        )
        for var in env
    ]


def with_user_env(env: list[EnvVar], own: Sequence[UserEnvVar]) -> list[EnvVar]:
    """`env` with the job's own variables last, each over a catalog variable of its name (the
    runtime's own names are refused before: `aijob_api.environment.env_name_problem`)."""
    names = {var.name for var in own}
    return [var for var in env if var.name not in names] + user_env(own)


def user_env_from(sources: Sequence[UserEnvFromSource]) -> list[EnvFromSource]:
    """Every key of the job's Secrets (of the pod's namespace) as variables."""
    return [EnvFromSource(secretRef=SecretEnvSource(name=item.secret_ref.name)) for item in sources]


def user_volumes(volumes: Sequence[VolumeSpec]) -> list[Volume]:
    """The job's PersistentVolumeClaims (of the pod's namespace), read-only unless it says."""
    return [
        Volume(
            name=f"{USER_VOLUME_PREFIX}{index}",
            persistentVolumeClaim=PersistentVolumeClaimVolumeSource(
                claimName=volume.claim_name, readOnly=volume.read_only or None
            ),
        )
        for index, volume in enumerate(volumes)
    ]


def user_mounts(volumes: Sequence[VolumeSpec]) -> list[VolumeMount]:
    """Where the job's claims are mounted (`user_volumes` names them)."""
    return [
        VolumeMount(
            name=f"{USER_VOLUME_PREFIX}{index}",
            mountPath=volume.mount_path,
            readOnly=volume.read_only or None,
            subPath=volume.sub_path,
        )
        for index, volume in enumerate(volumes)
    ]


def resource_requirements(
    resources: ResourceSpec, runtime: ResolvedRuntime
) -> ResourceRequirements:
    """Requests equal to limits (the catalog's defaults for what is not asked), GPUs too."""
    defaults = runtime.runtime.resources
    cpu = resources.cpu or defaults.cpu
    memory = resources.memory or defaults.memory
    requests: dict[str, str] = {"cpu": cpu, "memory": memory}
    limits: dict[str, str] = {"cpu": cpu, "memory": memory}
    if resources.gpu:
        limits[GPU_RESOURCE] = str(resources.gpu)
        requests[GPU_RESOURCE] = str(resources.gpu)
    return ResourceRequirements(requests=requests, limits=limits)


def runtime_env(
    runtime: ResolvedRuntime, own: dict[str, str], settings: PodSettings | None = None
) -> list[EnvVar]:
    """The catalog's variables, then `own` over them, with HOME and TMPDIR on the scratch,
    then (s3 mode) the store's endpoint and region and the tenant's credentials."""
    scratch = {"HOME": contract.SCRATCH_MOUNT_PATH, "TMPDIR": contract.SCRATCH_MOUNT_PATH}
    store: dict[str, str] = {}
    if settings is not None and not settings.mounts_artifacts:
        store["AWS_DEFAULT_REGION"] = settings.s3_region
        if settings.s3_endpoint:
            store["AWS_ENDPOINT_URL"] = settings.s3_endpoint
    merged = {**runtime.runtime.env, **own, **scratch, **store}
    env = [EnvVar(name=key, value=value) for key, value in merged.items()]
    if store:
        env.extend(_secret_env(key) for key in (SECRET_ACCESS_KEY, SECRET_SECRET_KEY))
    return env


def _secret_env(key: str) -> EnvVar:
    """A variable of the same name from the tenant's storage Secret (never its value)."""
    return EnvVar(
        name=key,
        valueFrom=EnvVarSource(secretKeyRef=SecretKeySelector(name=STORAGE_SECRET, key=key)),
    )


def storage_volumes(settings: PodSettings) -> list[Volume]:
    """The artifact volume in hostPath mode; none in s3 mode."""
    return [artifacts_volume(settings)] if settings.mounts_artifacts else []


def artifacts_volume(settings: PodSettings) -> Volume:
    """The artifact store: the configured PVC, else a hostPath directory."""
    if settings.artifacts_pvc:
        return Volume(
            name=ARTIFACTS_VOLUME,
            persistentVolumeClaim=PersistentVolumeClaimVolumeSource(
                claimName=settings.artifacts_pvc
            ),
        )
    return Volume(
        name=ARTIFACTS_VOLUME,
        hostPath=HostPathVolumeSource(path=settings.artifacts_host_path, type="DirectoryOrCreate"),
    )


def scratch_volume() -> Volume:
    """A writable directory private to the pod (the root filesystem is read-only)."""
    return Volume(name=SCRATCH_VOLUME, emptyDir=EmptyDirVolumeSource())


def volume_mounts(
    *, artifacts: bool = True, artifacts_read_only: bool = False
) -> list[VolumeMount]:
    """The artifact store (hostPath mode) and the scratch directory, where the worker
    runtime expects them."""
    scratch = VolumeMount(name=SCRATCH_VOLUME, mountPath=contract.SCRATCH_MOUNT_PATH)
    if not artifacts:
        return [scratch]
    return [
        VolumeMount(
            name=ARTIFACTS_VOLUME,
            mountPath=contract.ARTIFACTS_MOUNT_PATH,
            readOnly=artifacts_read_only or None,
        ),
        scratch,
    ]
