"""Names, labels, hashes and owner references shared by everything an AIEndpoint owns.

Every child (ConfigMap, Service, Deployment) is named after the endpoint, labelled
`aijob.dev/endpoint=NAME`, controlled by the endpoint (deleting it deletes them) and
carries the hash of what the operator built (`aijob.dev/applied-hash`), so a reconcile
knows from a cached view alone whether the object is still what it should be.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from aijob_api.constants import (
    ENDPOINT_KIND,
    LABEL_ENDPOINT_NAME,
    LABEL_FRAMEWORK,
    LABEL_MANAGED_BY,
    LABEL_PRIORITY,
    MANAGED_BY,
)
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_status import ServedModel
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Service

from aijob_operator.builders.meta import controller_reference
from aijob_operator.builders.pod import PodSettings
from aijob_operator.catalog import ResolvedRuntime

APPLIED_HASH_ANNOTATION: Final = "aijob.dev/applied-hash"
"""On each child: the hash of the object as the operator last built it."""
REVISION_LABEL: Final = "aijob.dev/revision"
"""On the Deployment's pod template: the hash of the template (what makes a pod current)."""
SERVICE_PORT: Final = 80
"""The Service's port (named http); the pods listen on `SERVE_PORT`."""
PORT_NAME: Final = "http"
_HASH_LENGTH: Final = 16

_Child = TypeVar("_Child", ConfigMap, Service, Deployment)


@dataclass(frozen=True)
class EndpointTarget:
    """What an endpoint's children should serve, and how: the inputs of every builder."""

    endpoint: AIEndpoint
    runtime: ResolvedRuntime
    model: ServedModel
    model_type: str | None
    """The model type the server expects (the spec's, else the training job's)."""
    settings: PodSettings

    @property
    def name(self) -> str:
        """The endpoint's name."""
        return endpoint_name(self.endpoint)

    @property
    def namespace(self) -> str:
        """The endpoint's namespace."""
        namespace = self.endpoint.metadata.namespace
        if not namespace:
            raise ValueError("metadata.namespace: the AIEndpoint has no namespace")
        return namespace


def endpoint_name(endpoint: AIEndpoint) -> str:
    """The endpoint's name (every child's name starts with it)."""
    if not endpoint.metadata.name:
        raise ValueError("metadata.name: the AIEndpoint has no name")
    return endpoint.metadata.name


def deployment_name(endpoint: str) -> str:
    """Name of the endpoint's Deployment (its pods are `<name>-<hash>-<id>`)."""
    return endpoint


def service_name(endpoint: str) -> str:
    """Name of the endpoint's Service: its in-cluster host name."""
    return endpoint


def config_map_name(endpoint: str) -> str:
    """Name of the ConfigMap that holds the model server's settings."""
    return f"{endpoint}-serve"


def endpoint_url(endpoint: str, namespace: str) -> str:
    """The in-cluster URL of an endpoint's Service (no cluster domain assumed)."""
    return f"http://{service_name(endpoint)}.{namespace}.svc:{SERVICE_PORT}"


def selector_labels(endpoint: str) -> dict[str, str]:
    """The label that ties a child, and every pod, to its endpoint."""
    return {LABEL_ENDPOINT_NAME: endpoint}


def selector(endpoint: str) -> str:
    """The pods' label selector as a string (the scale subresource's `status.selector`)."""
    return ",".join(f"{key}={value}" for key, value in selector_labels(endpoint).items())


def child_labels(target: EndpointTarget) -> dict[str, str]:
    """Labels on every child and pod: the endpoint's name, framework, priority, manager."""
    return {
        **selector_labels(target.name),
        LABEL_FRAMEWORK: target.runtime.framework.value,
        LABEL_PRIORITY: target.endpoint.spec.priority.value,
        LABEL_MANAGED_BY: MANAGED_BY,
    }


def child_metadata(target: EndpointTarget, name: str) -> ObjectMeta:
    """Metadata of a child: name, namespace, labels, the endpoint as its controller."""
    return ObjectMeta(
        name=name,
        namespace=target.namespace,
        labels=child_labels(target),
        ownerReferences=[
            controller_reference(ENDPOINT_KIND, target.name, target.endpoint.metadata.uid)
        ],
    )


def content_hash(content: Any) -> str:
    """A short, stable hash of JSON-like content (keys sorted)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:_HASH_LENGTH]


def stamp(child: _Child) -> _Child:
    """The child with the applied-hash annotation of its content (computed without it)."""
    if child.metadata is None:
        raise ValueError("a child needs metadata")
    content = content_hash(child.to_dict())
    child.metadata.annotations = {
        **(child.metadata.annotations or {}),
        APPLIED_HASH_ANNOTATION: content,
    }
    return child


def applied_hash(child: ConfigMap | Service | Deployment) -> str | None:
    """The applied-hash annotation of a built child."""
    annotations = (child.metadata.annotations if child.metadata else None) or {}
    return annotations.get(APPLIED_HASH_ANNOTATION)
