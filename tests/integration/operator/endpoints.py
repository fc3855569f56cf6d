"""Helpers of the AIEndpoint integration tests: endpoints in, status and children out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aijob_api.constants import LABEL_ENDPOINT_NAME
from aijob_api.endpoint import AIEndpoint
from aijob_kube.resources import AIEndpointResource
from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Event, Pod, Service

from tests.integration.operator.support import CustomObjects

_Read = TypeVar("_Read")


def endpoint_manifest(name: str, training_job: str, **spec: Any) -> dict[str, Any]:
    """An AIEndpoint serving a training job's model (`spec` merged over it)."""
    return {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIEndpoint",
        "metadata": {"name": name},
        "spec": {"model": {"source": {"trainingJob": training_job}}, **spec},
    }


class AIEndpoints(CustomObjects[AIEndpoint]):
    """AIEndpoints of one test namespace, and what they own, through the real API server."""

    resource = AIEndpointResource
    model = AIEndpoint

    def delete(self, name: str) -> None:
        """Delete an AIEndpoint (its children go by garbage collection)."""
        self.kube.delete(AIEndpointResource, name, namespace=self.namespace)

    def deployment(self, name: str) -> Deployment | None:
        """The endpoint's Deployment, or None."""
        return self._missing_is_none(
            lambda: self.kube.get(Deployment, name, namespace=self.namespace)
        )

    def service(self, name: str) -> Service | None:
        """The endpoint's Service, or None."""
        return self._missing_is_none(lambda: self.kube.get(Service, name, namespace=self.namespace))

    def config_map(self, name: str) -> ConfigMap | None:
        """The endpoint's ConfigMap of settings, or None."""
        return self._missing_is_none(
            lambda: self.kube.get(ConfigMap, f"{name}-serve", namespace=self.namespace)
        )

    def pods(self, name: str) -> list[Pod]:
        """The endpoint's model server pods."""
        return list(
            self.kube.list(Pod, namespace=self.namespace, labels={LABEL_ENDPOINT_NAME: name})
        )

    def children(self, name: str) -> list[str]:
        """`Kind/name` of everything left that carries the endpoint's label."""
        labels: dict[str, Any] = {LABEL_ENDPOINT_NAME: name}
        found: list[Deployment | Service | ConfigMap | Pod] = [
            *self.kube.list(Deployment, namespace=self.namespace, labels=labels),
            *self.kube.list(Service, namespace=self.namespace, labels=labels),
            *self.kube.list(ConfigMap, namespace=self.namespace, labels=labels),
            *self.kube.list(Pod, namespace=self.namespace, labels=labels),
        ]
        return [
            f"{type(item).__name__}/{item.metadata.name if item.metadata else ''}" for item in found
        ]

    def event_reasons(self, name: str) -> list[str]:
        """Reasons of the Events on an AIEndpoint, oldest first (names end in the time, in ns)."""
        return [reason for reason, _ in self.events(name)]

    def events(self, name: str) -> list[tuple[str, str]]:
        """(reason, message) of the Events on an AIEndpoint, oldest first."""
        events = [
            event
            for event in self.kube.list(Event, namespace=self.namespace)
            if event.involvedObject.kind == "AIEndpoint" and event.involvedObject.name == name
        ]
        events.sort(
            key=lambda event: int(
                str(event.metadata.name if event.metadata else "").split(".")[-1], 16
            )
        )
        return [(str(event.reason), str(event.message)) for event in events]

    @staticmethod
    def _missing_is_none(read: Callable[[], _Read]) -> _Read | None:
        try:
            return read()
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise
