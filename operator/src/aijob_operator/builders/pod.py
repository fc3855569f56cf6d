"""What every worker pod shares, a job's or an endpoint's: security, volumes, placement, resources.

Job pods and model-server pods run the same images as the same non-root user on a
read-only root filesystem, mount the same artifact store and scratch directory, and are
placed the same way: the runtime's own node selector and tolerations (from the
catalog) on every pod; a pod asking for GPUs also tolerates the GPU nodes' taint, one
asking for none gets the operator's CPU node selector and tolerations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from aijob_api import contract
from aijob_api.constants import GPU_RESOURCE
from aijob_api.spec import ResourceSpec
from lightkube.models.core_v1 import (
    Capabilities,
    EmptyDirVolumeSource,
    EnvVar,
    HostPathVolumeSource,
    PersistentVolumeClaimVolumeSource,
    PodSecurityContext,
    ResourceRequirements,
    SeccompProfile,
    SecurityContext,
    Toleration,
    Volume,
    VolumeMount,
)

from aijob_operator.catalog import ResolvedRuntime
from aijob_operator.placement import PodToleration

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


def node_selector(runtime: ResolvedRuntime, settings: PodSettings, gpus: int) -> dict[str, str]:
    """The CPU pods' node selector (no GPU asked), with the runtime's own on top."""
    cpu = {} if gpus else settings.cpu_node_selector
    return {**cpu, **runtime.runtime.placement.node_selector}


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


def runtime_env(runtime: ResolvedRuntime, own: dict[str, str]) -> list[EnvVar]:
    """The catalog's variables, then `own` over them, with HOME and TMPDIR on the scratch."""
    scratch = {"HOME": contract.SCRATCH_MOUNT_PATH, "TMPDIR": contract.SCRATCH_MOUNT_PATH}
    merged = {**runtime.runtime.env, **own, **scratch}
    return [EnvVar(name=key, value=value) for key, value in merged.items()]


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


def volume_mounts(*, artifacts_read_only: bool = False) -> list[VolumeMount]:
    """The artifact store and the scratch directory, where the worker runtime expects them."""
    return [
        VolumeMount(
            name=ARTIFACTS_VOLUME,
            mountPath=contract.ARTIFACTS_MOUNT_PATH,
            readOnly=artifacts_read_only or None,
        ),
        VolumeMount(name=SCRATCH_VOLUME, mountPath=contract.SCRATCH_MOUNT_PATH),
    ]
