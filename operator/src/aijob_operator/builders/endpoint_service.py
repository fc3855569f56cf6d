"""The Service in front of an endpoint's ready pods: ClusterIP, one port named http."""

from __future__ import annotations

from lightkube.models.core_v1 import ServicePort, ServiceSpec
from lightkube.resources.core_v1 import Service

from aijob_operator.builders.endpoint_meta import (
    PORT_NAME,
    SERVICE_PORT,
    EndpointTarget,
    child_metadata,
    selector_labels,
    service_name,
    stamp,
)


def build_service(target: EndpointTarget) -> Service:
    """The endpoint's Service: `http://<name>.<namespace>.svc:80` reaches a ready pod."""
    return stamp(
        Service(
            metadata=child_metadata(target, service_name(target.name)),
            spec=ServiceSpec(
                type="ClusterIP",
                selector=selector_labels(target.name),
                ports=[
                    ServicePort(
                        name=PORT_NAME, port=SERVICE_PORT, targetPort=PORT_NAME, protocol="TCP"
                    )
                ],
            ),
        )
    )
