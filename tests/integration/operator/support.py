"""Helpers of the operator's integration tests: AIJobs in, status, children and events out."""

from __future__ import annotations

import copy
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import yaml
from aijob_api.constants import LABEL_JOB_NAME
from aijob_api.models import AIJob
from aijob_kube.resources import AIJobResource
from lightkube import ApiError, Client
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Event, Pod
from lightkube.types import PatchType

from tests.support.eventually import eventually


class _Object(Protocol):
    @property
    def status(self) -> Any: ...

    @classmethod
    def model_validate(cls, obj: Any) -> Self: ...


ObjectT = TypeVar("ObjectT", bound=_Object)

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = REPO_ROOT / "examples"
TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {"type": "random_forest"},
    "dataset": {"name": "iris"},
}


def manifest(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    """An AIJob manifest: a small training job unless `spec` says otherwise (None drops a key)."""
    body = copy.deepcopy(TRAINING)
    body.update(spec)
    body = {key: value for key, value in body.items() if value is not None}
    return {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def simulated(annotations: dict[str, str]) -> dict[str, Any]:
    """spec.podTemplate that drives the KWOK stages (fake exit code, fake run time)."""
    return {"annotations": annotations}


class CustomObjects(Generic[ObjectT]):
    """One kind of aijob custom object in a test namespace, through the real API server."""

    resource: ClassVar[Any]
    """The aijob_kube resource class."""
    model: type[ObjectT]
    """The aijob_api model it is read into."""

    def __init__(self, kube: Client, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace

    def create(self, body: dict[str, Any]) -> str:
        """Create an object from a manifest (namespace set to the test's); return its name."""
        body = copy.deepcopy(body)
        body["metadata"]["namespace"] = self.namespace
        self.kube.create(self.resource.from_dict(body))
        return str(body["metadata"]["name"])

    def apply_example(self, file_name: str) -> str:
        """Create the object exactly as an examples/ file has it (in the test's namespace)."""
        return self.create(yaml.safe_load((EXAMPLES / file_name).read_text()))

    def get(self, name: str) -> ObjectT:
        """The object as the API server has it now."""
        return self.model.model_validate(
            dict(self.kube.get(self.resource, name, namespace=self.namespace))
        )

    def patch_spec(self, name: str, spec: dict[str, Any]) -> None:
        """Merge-patch the spec, as `kubectl patch --type merge` would."""
        self.kube.patch(
            self.resource,
            name,
            {"spec": spec},
            namespace=self.namespace,
            patch_type=PatchType.MERGE,
        )

    def patch_status(self, name: str, status: dict[str, Any]) -> None:
        """Merge-patch the status (as a worker or the gateway writes its share)."""
        self.kube.patch(
            self.resource.Status,
            name,
            {"status": status},
            namespace=self.namespace,
            patch_type=PatchType.MERGE,
        )

    def wait(
        self, name: str, check: Callable[[ObjectT], bool], *, timeout: float, what: str
    ) -> ObjectT:
        """Wait until `check(object)` holds; return the object."""

        def holds() -> ObjectT:
            item = self.get(name)
            status = item.status
            assert check(item), f"{name}: {status.phase} {status.reason}: {status.message}"
            return item

        return eventually(holds, timeout=timeout, what=f"{name}: {what}")

    def wait_phase(
        self, name: str, phase: StrEnum, *, timeout: float, reason: str | None = None
    ) -> ObjectT:
        """Wait for a phase (and reason)."""
        return self.wait(
            name,
            lambda item: (
                item.status.phase is phase and (reason is None or item.status.reason == reason)
            ),
            timeout=timeout,
            what=f"phase {phase}" + (f" with reason {reason}" if reason else ""),
        )


class AIJobs(CustomObjects[AIJob]):
    """AIJobs of one test namespace, through the real API server."""

    resource = AIJobResource
    model = AIJob

    def all(self) -> dict[str, AIJob]:
        """Every AIJob of the namespace, by name."""
        return {
            item.metadata.name: AIJob.model_validate(dict(item))
            for item in self.kube.list(AIJobResource, namespace=self.namespace)
            if item.metadata is not None and item.metadata.name
        }

    def job(self, name: str) -> Job | None:
        """The child Job, or None."""
        try:
            return self.kube.get(Job, name, namespace=self.namespace)
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise

    def wait_job(self, name: str, *, timeout: float) -> Job:
        """Wait for the child Job to exist; return it."""

        def exists() -> Job:
            job = self.job(name)
            assert job is not None, f"no Job {name} yet"
            return job

        return eventually(exists, timeout=timeout, what=f"the Job of {name}")

    def jobs(self) -> list[Job]:
        """Every Job of the namespace that belongs to an AIJob."""
        return list(self.kube.list(Job, namespace=self.namespace, labels={LABEL_JOB_NAME: None}))

    def job_uids(self) -> dict[str, str]:
        """Name to uid of every Job of the namespace that belongs to an AIJob."""
        uids = {}
        for job in self.jobs():
            assert job.metadata is not None
            uids[str(job.metadata.name)] = str(job.metadata.uid)
        return uids

    def pods(self, name: str) -> list[Pod]:
        """The worker pods of an AIJob."""
        return list(self.kube.list(Pod, namespace=self.namespace, labels={LABEL_JOB_NAME: name}))

    def events(self, name: str) -> list[Event]:
        """The Events posted on an AIJob."""
        return [
            event
            for event in self.kube.list(Event, namespace=self.namespace)
            if event.involvedObject.kind == "AIJob" and event.involvedObject.name == name
        ]

    def event_reasons(self, name: str) -> list[str]:
        """Reasons of the Events on an AIJob, oldest first (names end in the time, in ns)."""
        events = sorted(
            self.events(name),
            key=lambda event: int(
                str(event.metadata.name if event.metadata else "").split(".")[-1], 16
            ),
        )
        return [str(event.reason) for event in events]

    def worker_env(self, name: str) -> dict[str, str | None]:
        """The worker container's plain environment variables in an AIJob's Job."""
        job = self.job(name)
        assert job is not None
        assert job.spec is not None
        assert job.spec.template.spec is not None
        container = job.spec.template.spec.containers[0]
        return {item.name: item.value for item in container.env or []}
