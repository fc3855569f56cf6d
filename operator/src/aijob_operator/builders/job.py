"""The child Job of an AIJob: image, worker contract, resources, retries, placement.

Security, volumes, placement and resources are those of every worker pod
(`aijob_operator.builders.pod`), with the job's own variables, Secrets, claims and
placement (`spec.env`, `envFrom`, `volumes`, `placement`) added.

`build_job` is deterministic: the same AIJob, runtime and settings give the same
Job, named after the AIJob, so creating it twice can only fail with AlreadyExists.

The Job is Indexed with one completion, so the Job controller stamps each pod
with how many earlier attempts failed (`batch.kubernetes.io/job-index-failure-count`,
with `backoffLimitPerIndex`), which reaches the worker through the downward API. A
distributed job's group (`spec.distributed.nodes` N > 1) is an Indexed Job of N
completions run in parallel, created suspended (the operator starts it when all N pods
fit, or Kueue admits it), done when index 0 succeeds (`successPolicy`), failed at its
first failed pod (`backoffLimit` 0: the operator restarts the whole group, one retry,
`group_decide`), with the rank Services' addresses and the group's failed attempts as
plain values (`builders.group`).

The spec reaches the worker as a file: an annotation of the pod template, projected by a
downwardAPI volume (`aijob_api.delivery` says why, and bounds its size).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aijob_api import contract
from aijob_api.constants import KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL
from aijob_api.delivery import spec_document
from aijob_api.pretrained import HUB_TOKEN_ENV
from aijob_api.priority import priority_class
from aijob_api.resource import AIJob
from lightkube.models.batch_v1 import (
    JobSpec,
    PodFailurePolicy,
    PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyOnPodConditionsPattern,
    PodFailurePolicyRule,
    SuccessPolicy,
    SuccessPolicyRule,
)
from lightkube.models.core_v1 import (
    Container,
    DownwardAPIVolumeFile,
    DownwardAPIVolumeSource,
    EnvVar,
    EnvVarSource,
    ObjectFieldSelector,
    PodSpec,
    PodTemplateSpec,
    SecretKeySelector,
    Volume,
    VolumeMount,
)
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job

from aijob_operator.builders.code import code_mounts, code_volumes, worker_process
from aijob_operator.builders.group import group_env, group_size
from aijob_operator.builders.meta import child_labels, child_metadata, identity_name, job_name
from aijob_operator.builders.pod import (
    PodSettings as PodSettings,  # re-exported: the Job's settings are every worker pod's
)
from aijob_operator.builders.pod import (
    affinity,
    container_security_context,
    node_selector,
    pod_security_context,
    resource_requirements,
    runtime_env,
    scratch_volume,
    storage_volumes,
    tolerations,
    user_env_from,
    user_mounts,
    user_volumes,
    volume_mounts,
    with_user_env,
)
from aijob_operator.builders.status_channel import channel_env_vars, token_mounts, token_volumes
from aijob_operator.catalog import ResolvedRuntime
from aijob_operator.requirements import requirements_env

INDEX_FAILURE_COUNT_ANNOTATION: Final = "batch.kubernetes.io/job-index-failure-count"
"""Set by the Job controller on each pod of an Indexed Job with backoffLimitPerIndex."""
INDEX_IGNORED_FAILURE_COUNT_ANNOTATION: Final = (
    "batch.kubernetes.io/job-index-ignored-failure-count"
)
"""Set by the Job controller when earlier pods failed in a way the podFailurePolicy ignored."""
DISRUPTION_TARGET: Final = "DisruptionTarget"
"""Pod condition set when a pod is preempted, evicted or its node drained."""
TERMINATION_GRACE_SECONDS: Final = 30
"""Time a worker gets after SIGTERM to save a checkpoint."""
SPEC_VOLUME: Final = "spec"
"""The downwardAPI volume that projects the spec annotation into the worker's spec file."""


def artifact_uri(namespace: str, name: str, settings: PodSettings | None = None) -> str:
    """Where a job writes its model and artifacts, as a URI the worker understands: in s3
    mode `s3://<tenant bucket>/jobs/<name>/`, in hostPath mode below the artifact mount."""
    return (settings or PodSettings()).store(namespace).job_uri(name)


def build_job(
    aijob: AIJob,
    runtime: ResolvedRuntime,
    settings: PodSettings,
    model_uri: str | None = None,
    model_checksum: str | None = None,
    addresses: Sequence[str] = (),
    group_failures: int = 0,
    deadline_seconds: int | None = None,
) -> Job:
    """The Job that runs one AIJob; for a group, `addresses` are its rank Services' IPs,
    `group_failures` the attempts of the group that failed before this one and
    `deadline_seconds` what is left of `timeoutSeconds` (`builders.group.deadline_left`)."""
    name = aijob.metadata.name
    namespace = aijob.metadata.namespace
    if not name or not namespace:
        raise ValueError("metadata: the AIJob needs a name and a namespace")
    spec = aijob.spec
    metadata = child_metadata(aijob, job_name(name), runtime.framework)
    if spec.queue is not None:
        assert metadata.labels is not None
        metadata.labels[KUEUE_QUEUE_LABEL] = spec.queue
        metadata.labels[KUEUE_PRIORITY_LABEL] = priority_class(spec.priority)
    retries = spec.retry_policy.max_retries
    nodes = group_size(spec)[0]
    template = _pod_template(aijob, runtime, settings, model_uri, model_checksum)
    group = nodes > 1
    worker = template.spec.containers[0] if template.spec else None
    if worker is not None:
        extra = group_env(spec, addresses)
        if group:
            extra = [
                *(var for var in worker.env or () if var.name != contract.ENV_FAILED_ATTEMPTS),
                *extra,
                EnvVar(name=contract.ENV_FAILED_ATTEMPTS, value=str(group_failures)),
            ]
            worker.env = extra
        elif extra:
            worker.env = [*(worker.env or ()), *extra]
    return Job(
        metadata=metadata,
        spec=JobSpec(
            completions=nodes,
            parallelism=nodes,
            completionMode="Indexed",
            backoffLimit=0 if group else retries,
            backoffLimitPerIndex=None if group else retries,
            successPolicy=(
                SuccessPolicy(rules=[SuccessPolicyRule(succeededIndexes="0")]) if group else None
            ),
            activeDeadlineSeconds=deadline_seconds or spec.timeout_seconds,
            podFailurePolicy=_pod_failure_policy(),
            podReplacementPolicy="Failed",
            suspend=spec.queue is not None or group,
            template=template,
        ),
    )


def _pod_failure_policy() -> PodFailurePolicy:
    """Disruptions never burn a retry; bad input fails the job at once; the rest count."""
    return PodFailurePolicy(
        rules=[
            PodFailurePolicyRule(
                action="Ignore",
                onPodConditions=[
                    PodFailurePolicyOnPodConditionsPattern(type=DISRUPTION_TARGET, status="True")
                ],
            ),
            PodFailurePolicyRule(
                action="FailJob",
                onExitCodes=PodFailurePolicyOnExitCodesRequirement(
                    containerName=contract.CONTAINER_NAME,
                    operator="In",
                    values=[contract.EXIT_BAD_INPUT],
                ),
            ),
        ]
    )


def _pod_template(
    aijob: AIJob,
    runtime: ResolvedRuntime,
    settings: PodSettings,
    model_uri: str | None,
    model_checksum: str | None,
) -> PodTemplateSpec:
    spec = aijob.spec
    name = aijob.metadata.name or ""
    user = spec.pod_template
    labels = {**(user.labels if user else {}), **child_labels(aijob, runtime.framework)}
    annotations = dict(user.annotations) if user else {}
    annotations[contract.SPEC_ANNOTATION] = spec_json(aijob)
    gpus = spec.resources.gpu
    channel = settings.status_channel
    return PodTemplateSpec(
        metadata=ObjectMeta(labels=labels, annotations=annotations or None),
        spec=PodSpec(
            restartPolicy="Never",
            # on the status channel: the namespace's default ServiceAccount, no API token
            serviceAccountName=None if channel else identity_name(name),
            automountServiceAccountToken=channel is None,
            enableServiceLinks=False,
            priorityClassName=priority_class(spec.priority),
            terminationGracePeriodSeconds=TERMINATION_GRACE_SECONDS,
            securityContext=pod_security_context(),
            tolerations=tolerations(runtime, settings, gpus) or None,
            nodeSelector=node_selector(runtime, settings, gpus, spec.placement) or None,
            affinity=affinity(runtime),
            containers=[_worker_container(aijob, runtime, settings, model_uri, model_checksum)],
            volumes=[
                *storage_volumes(settings),
                scratch_volume(),
                spec_volume(),
                *code_volumes(spec),
                *user_volumes(spec.volumes),
                *token_volumes(channel),
            ],
        ),
    )


def _worker_container(
    aijob: AIJob,
    runtime: ResolvedRuntime,
    settings: PodSettings,
    model_uri: str | None,
    model_checksum: str | None,
) -> Container:
    image, command, args = worker_process(aijob.spec, runtime)
    return Container(
        name=contract.CONTAINER_NAME,
        image=image,
        imagePullPolicy="IfNotPresent",
        command=command or None,
        args=args or None,
        env=with_user_env(
            [
                *worker_env(aijob, runtime, settings, model_uri, model_checksum),
                *channel_env_vars(settings.status_channel),
            ],
            aijob.spec.env,
        ),
        envFrom=user_env_from(aijob.spec.env_from) or None,
        resources=resource_requirements(aijob.spec.resources, runtime),
        terminationMessagePath=contract.TERMINATION_MESSAGE_PATH,
        terminationMessagePolicy="FallbackToLogsOnError",
        securityContext=container_security_context(),
        volumeMounts=[
            *volume_mounts(artifacts=settings.mounts_artifacts),
            VolumeMount(name=SPEC_VOLUME, mountPath=contract.SPEC_MOUNT_PATH, readOnly=True),
            *code_mounts(aijob.spec),
            *user_mounts(aijob.spec.volumes),
            *token_mounts(settings.status_channel),
        ],
    )


def worker_env(
    aijob: AIJob,
    runtime: ResolvedRuntime,
    settings: PodSettings,
    model_uri: str | None,
    model_checksum: str | None = None,
) -> list[EnvVar]:
    """The worker contract as environment variables (the catalog's own variables first,
    the store's settings and the tenant's credentials by reference last, then a
    pretrained model's hub token from the job's own Secret, also by reference)."""
    name = aijob.metadata.name or ""
    namespace = aijob.metadata.namespace or ""
    contract_env: dict[str, str] = {
        contract.ENV_JOB_NAME: name,
        contract.ENV_NAMESPACE: namespace,
        contract.ENV_JOB_UID: aijob.metadata.uid or "",
        contract.ENV_FRAMEWORK: runtime.framework.value,
        contract.ENV_FRAMEWORK_VERSION: runtime.version,
        contract.ENV_ARTIFACT_URI: artifact_uri(namespace, name, settings),
        contract.ENV_PROGRESS_INTERVAL: str(settings.progress_interval_seconds),
        contract.ENV_SPEC_FILE: contract.SPEC_FILE_PATH,
    }
    if model_uri is not None:
        contract_env[contract.ENV_MODEL_URI] = model_uri
    if model_checksum is not None:
        contract_env[contract.ENV_MODEL_SHA256] = model_checksum
    contract_env.update(requirements_env(runtime.runtime.requirements, aijob.spec))
    env = runtime_env(runtime, contract_env, settings)
    pretrained = aijob.spec.model.pretrained
    if pretrained is not None and pretrained.token_secret is not None:
        token = pretrained.token_secret
        env.append(
            EnvVar(
                name=HUB_TOKEN_ENV,
                valueFrom=EnvVarSource(
                    secretKeyRef=SecretKeySelector(name=token.name, key=token.key)
                ),
            )
        )
    env.append(_field_env(contract.ENV_POD_NAME, "metadata.name"))
    env.append(
        _field_env(
            contract.ENV_FAILED_ATTEMPTS,
            f"metadata.annotations['{INDEX_FAILURE_COUNT_ANNOTATION}']",
        )
    )
    return env


def spec_json(aijob: AIJob) -> str:
    """The spec snapshot the worker reads (camelCase, defaults filled, no nulls)."""
    return spec_document(aijob.spec.model_dump(mode="json", by_alias=True, exclude_none=True))


def spec_volume() -> Volume:
    """The spec annotation of the pod, as the file `contract.SPEC_FILE_NAME` (downward API).

    No extra API object per job, and no 128 KiB cap of an environment variable: the
    annotation is bounded by the API server's 256 KiB (`aijob_api.delivery`).
    """
    return Volume(
        name=SPEC_VOLUME,
        downwardAPI=DownwardAPIVolumeSource(
            items=[
                DownwardAPIVolumeFile(
                    path=contract.SPEC_FILE_NAME,
                    fieldRef=ObjectFieldSelector(
                        fieldPath=f"metadata.annotations['{contract.SPEC_ANNOTATION}']"
                    ),
                )
            ]
        ),
    )


def _field_env(name: str, path: str) -> EnvVar:
    return EnvVar(name=name, valueFrom=EnvVarSource(fieldRef=ObjectFieldSelector(fieldPath=path)))
