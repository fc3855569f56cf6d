"""Compact, immutable views of what an AIEndpoint owns: its Deployment, pods, Service, ConfigMap.

As for jobs (`aijob_operator.views`), the informers keep one of these per object, not
the body. A view holds what the endpoint's reconcile reads: whose the object is, the
hash of what the operator applied, and for the Deployment and its pods what they say
about the rollout and the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aijob_api.endpoint_status import ServedModel

from aijob_operator.builders.endpoint_config import SERVE_PORT
from aijob_operator.builders.endpoint_deployment import (
    MODEL_CHECKSUM_ANNOTATION,
    MODEL_URI_ANNOTATION,
    TRAINING_JOB_ANNOTATION,
    TRAINING_JOB_UID_ANNOTATION,
)
from aijob_operator.builders.endpoint_meta import APPLIED_HASH_ANNOTATION, PORT_NAME, REVISION_LABEL
from aijob_operator.views import (
    ConditionView,
    ContainerExit,
    PodView,
    container_exit,
    controller_uid,
    parse_conditions,
    worker_status,
)

Body = Mapping[str, Any]
_MODEL_ANNOTATIONS = frozenset(
    {
        MODEL_URI_ANNOTATION,
        MODEL_CHECKSUM_ANNOTATION,
        TRAINING_JOB_ANNOTATION,
        TRAINING_JOB_UID_ANNOTATION,
    }
)


@dataclass(frozen=True, slots=True)
class OwnedView:
    """A child known only by its owner and the hash applied (a Service, a ConfigMap)."""

    name: str
    uid: str
    owner_uid: str | None
    applied_hash: str | None

    @classmethod
    def from_body(cls, body: Body) -> OwnedView:
        """Read any object as the API server returns it."""
        metadata = body.get("metadata", {})
        return cls(
            name=metadata.get("name", ""),
            uid=metadata.get("uid", ""),
            owner_uid=controller_uid(metadata),
            applied_hash=(metadata.get("annotations") or {}).get(APPLIED_HASH_ANNOTATION),
        )


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """What the operator needs to know about an endpoint's Deployment (the numbers of pods
    come from the pods' own views, which agree with each other)."""

    name: str
    uid: str
    owner_uid: str | None
    applied_hash: str | None
    desired: int
    """`spec.replicas`."""
    revision: str | None
    """The revision label of the current pod template."""
    template_annotations: tuple[tuple[str, str], ...]
    """The current pod template's model annotations (what it loads)."""
    conditions: tuple[ConditionView, ...]

    @property
    def model(self) -> ServedModel | None:
        """The model the current pod template loads."""
        return served_model(self.template_annotations)

    def condition(self, type_: str) -> ConditionView | None:
        """The condition of this type, whatever its status."""
        return next((item for item in self.conditions if item.type == type_), None)

    @classmethod
    def from_body(cls, body: Body) -> DeploymentView:
        """Read a Deployment as the API server returns it."""
        metadata = body.get("metadata", {})
        spec = body.get("spec", {}) or {}
        status = body.get("status", {}) or {}
        template = (spec.get("template") or {}).get("metadata") or {}
        return cls(
            name=metadata.get("name", ""),
            uid=metadata.get("uid", ""),
            owner_uid=controller_uid(metadata),
            applied_hash=(metadata.get("annotations") or {}).get(APPLIED_HASH_ANNOTATION),
            desired=int(spec["replicas"]) if spec.get("replicas") is not None else 1,
            revision=(template.get("labels") or {}).get(REVISION_LABEL),
            template_annotations=model_annotations(template),
            conditions=parse_conditions(status.get("conditions")),
        )


@dataclass(frozen=True, slots=True)
class EndpointPodView:
    """A model server pod: the worker pod's view, its readiness, restarts, revision and address."""

    pod: PodView
    ready: bool
    restarts: int
    revision: str | None
    last_exit: ContainerExit | None
    """How the server's container last ended (it may be waiting to restart now)."""
    annotations: tuple[tuple[str, str], ...]
    """The pod's model annotations (what it loads)."""
    address: str | None = None
    """`http://<pod IP>:<the container port named http>`, once the pod has an IP."""

    @property
    def model(self) -> ServedModel | None:
        """The model this pod loads."""
        return served_model(self.annotations)

    @property
    def name(self) -> str:
        """The pod's name."""
        return self.pod.name

    @classmethod
    def from_body(cls, body: Body) -> EndpointPodView:
        """Read a Pod as the API server returns it."""
        pod = PodView.from_body(body)
        status = body.get("status", {}) or {}
        metadata = body.get("metadata", {})
        labels = metadata.get("labels") or {}
        server = worker_status(status) or {}
        terminated = (server.get("lastState") or {}).get("terminated")
        ready = any(
            condition.type == "Ready" and condition.status == "True"
            for condition in parse_conditions(status.get("conditions"))
        )
        return cls(
            pod=pod,
            ready=ready and not pod.deleting,
            restarts=int(server.get("restartCount", 0) or 0),
            revision=labels.get(REVISION_LABEL),
            last_exit=container_exit(terminated) if terminated else pod.exit,
            annotations=model_annotations(metadata),
            address=serve_address(body),
        )


def serve_address(body: Body) -> str | None:
    """Where a model server pod answers: its IP and the container port named `http` (the
    server's default port when none is named), as the gateway's dispatcher reaches it."""
    ip = (body.get("status") or {}).get("podIP")
    if not ip:
        return None
    port = SERVE_PORT
    for container in (body.get("spec") or {}).get("containers") or []:
        for declared in container.get("ports") or []:
            if declared.get("name") == PORT_NAME and declared.get("containerPort"):
                port = int(declared["containerPort"])
    host = f"[{ip}]" if ":" in str(ip) else str(ip)
    return f"http://{host}:{port}"


def model_annotations(metadata: Body) -> tuple[tuple[str, str], ...]:
    """The model annotations of a pod or pod template's metadata, sorted."""
    annotations = metadata.get("annotations") or {}
    return tuple(
        sorted((key, str(value)) for key, value in annotations.items() if key in _MODEL_ANNOTATIONS)
    )


def served_model(annotations: tuple[tuple[str, str], ...]) -> ServedModel | None:
    """The model named by model annotations; None without a URI."""
    named = dict(annotations)
    uri = named.get(MODEL_URI_ANNOTATION)
    if not uri:
        return None
    return ServedModel(
        uri=uri,
        checksum=named.get(MODEL_CHECKSUM_ANNOTATION),
        training_job=named.get(TRAINING_JOB_ANNOTATION),
        training_job_uid=named.get(TRAINING_JOB_UID_ANNOTATION),
    )
