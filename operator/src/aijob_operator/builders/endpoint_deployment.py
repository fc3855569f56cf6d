"""The Deployment of an endpoint's model servers: the framework's worker image in serve mode.

Pods are worker pods (`aijob_operator.builders.pod`: the catalog's image and placement,
the same security context, the artifact store mounted read-only) that run
`aijob-worker serve --config` with the ConfigMap's file. Readiness is the server's
`/v2/health/ready`, true once the model is loaded; rolling updates never take a ready
pod away before its successor is ready (maxUnavailable 0, maxSurge 1), and a pod
being replaced first leaves the Service, then drains its requests.

The pod template carries the served model (URI, checksum, training job and its uid)
and the settings' hash as annotations, and a revision label that hashes the whole
template: a retrained model or a changed setting is a new template, hence a rollout.
"""

from __future__ import annotations

from typing import Final

from aijob_api import contract
from aijob_api.priority import priority_class
from lightkube.models.apps_v1 import DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment
from lightkube.models.core_v1 import (
    ConfigMapVolumeSource,
    Container,
    ContainerPort,
    HTTPGetAction,
    Lifecycle,
    LifecycleHandler,
    PodSpec,
    PodTemplateSpec,
    Probe,
    SleepAction,
    Volume,
    VolumeMount,
)
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
from lightkube.resources.apps_v1 import Deployment

from aijob_operator.builders.endpoint_config import (
    CONFIG_MOUNT_PATH,
    CONFIG_PATH,
    SERVE_PORT,
    drain_seconds,
    render_config,
)
from aijob_operator.builders.endpoint_meta import (
    PORT_NAME,
    REVISION_LABEL,
    EndpointTarget,
    child_labels,
    child_metadata,
    config_map_name,
    content_hash,
    deployment_name,
    selector_labels,
    stamp,
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
    volume_mounts,
)

SERVER_CONTAINER: Final = "server"
"""Name of the model server's container."""
CONFIG_VOLUME: Final = "serve-config"
MODEL_URI_ANNOTATION: Final = "aijob.dev/model-uri"
MODEL_CHECKSUM_ANNOTATION: Final = "aijob.dev/model-checksum"
TRAINING_JOB_ANNOTATION: Final = "aijob.dev/training-job"
TRAINING_JOB_UID_ANNOTATION: Final = "aijob.dev/training-job-uid"
CONFIG_HASH_ANNOTATION: Final = "aijob.dev/config-hash"
READINESS_PATH: Final = "/v2/health/ready"
LIVENESS_PATH: Final = "/v2/health/live"
LEAVE_SERVICE_SECONDS: Final = 5
"""A pod being stopped keeps serving this long (preStop) while it leaves the Service's
endpoints, before SIGTERM starts its drain."""
GRACE_MARGIN_SECONDS: Final = 5
REVISION_HISTORY: Final = 2
REVISION_LENGTH: Final = 10


def build_deployment(target: EndpointTarget) -> Deployment:
    """The endpoint's Deployment, with `spec.replicas` clamped to [minReplicas, maxReplicas]."""
    spec = target.endpoint.spec
    return stamp(
        Deployment(
            metadata=child_metadata(target, deployment_name(target.name)),
            spec=DeploymentSpec(
                replicas=spec.desired_replicas,
                selector=LabelSelector(matchLabels=selector_labels(target.name)),
                strategy=DeploymentStrategy(
                    type="RollingUpdate",
                    rollingUpdate=RollingUpdateDeployment(maxUnavailable=0, maxSurge=1),
                ),
                revisionHistoryLimit=REVISION_HISTORY,
                template=pod_template(target),
            ),
        )
    )


def pod_template(target: EndpointTarget) -> PodTemplateSpec:
    """The model server pods, labelled with the hash of the template itself."""
    spec = target.endpoint.spec
    gpus = spec.resources.gpu
    labels = child_labels(target)
    template = PodTemplateSpec(
        metadata=ObjectMeta(labels=labels, annotations=model_annotations(target)),
        spec=PodSpec(
            automountServiceAccountToken=False,
            enableServiceLinks=False,
            priorityClassName=priority_class(spec.priority),
            terminationGracePeriodSeconds=(
                LEAVE_SERVICE_SECONDS + drain_seconds(target) + GRACE_MARGIN_SECONDS
            ),
            securityContext=pod_security_context(),
            tolerations=tolerations(target.runtime, target.settings, gpus) or None,
            nodeSelector=node_selector(target.runtime, target.settings, gpus) or None,
            affinity=affinity(target.runtime),
            containers=[_server_container(target)],
            volumes=[
                *storage_volumes(target.settings),
                scratch_volume(),
                Volume(
                    name=CONFIG_VOLUME,
                    configMap=ConfigMapVolumeSource(name=config_map_name(target.name)),
                ),
            ],
        ),
    )
    labels[REVISION_LABEL] = template_revision(template)
    return template


def template_revision(template: PodTemplateSpec) -> str:
    """The hash of a pod template (before it carries its revision label)."""
    return content_hash(template.to_dict())[:REVISION_LENGTH]


def model_annotations(target: EndpointTarget) -> dict[str, str]:
    """What the pods serve: the model and the hash of the settings file."""
    model = target.model
    annotations = {
        MODEL_URI_ANNOTATION: model.uri,
        CONFIG_HASH_ANNOTATION: content_hash(render_config(target)),
    }
    if model.checksum:
        annotations[MODEL_CHECKSUM_ANNOTATION] = model.checksum
    if model.training_job:
        annotations[TRAINING_JOB_ANNOTATION] = model.training_job
    if model.training_job_uid:
        annotations[TRAINING_JOB_UID_ANNOTATION] = model.training_job_uid
    return annotations


def _server_container(target: EndpointTarget) -> Container:
    runtime = target.runtime.runtime
    port = PORT_NAME
    return Container(
        name=SERVER_CONTAINER,
        image=runtime.image,
        imagePullPolicy="IfNotPresent",
        command=list(runtime.command) or None,
        args=["serve", "--config", CONFIG_PATH],
        ports=[ContainerPort(name=PORT_NAME, containerPort=SERVE_PORT, protocol="TCP")],
        env=runtime_env(target.runtime, {}, target.settings),
        resources=resource_requirements(target.endpoint.spec.resources, target.runtime),
        readinessProbe=Probe(
            httpGet=HTTPGetAction(path=READINESS_PATH, port=port),
            periodSeconds=2,
            timeoutSeconds=2,
            failureThreshold=2,
        ),
        livenessProbe=Probe(
            httpGet=HTTPGetAction(path=LIVENESS_PATH, port=port),
            periodSeconds=10,
            timeoutSeconds=5,
            failureThreshold=3,
        ),
        lifecycle=Lifecycle(
            preStop=LifecycleHandler(sleep=SleepAction(seconds=LEAVE_SERVICE_SECONDS))
        ),
        terminationMessagePath=contract.TERMINATION_MESSAGE_PATH,
        terminationMessagePolicy="FallbackToLogsOnError",
        securityContext=container_security_context(),
        volumeMounts=[
            *volume_mounts(artifacts=target.settings.mounts_artifacts, artifacts_read_only=True),
            VolumeMount(name=CONFIG_VOLUME, mountPath=CONFIG_MOUNT_PATH, readOnly=True),
        ],
    )
