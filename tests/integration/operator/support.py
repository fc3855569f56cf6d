"""Helpers of the operator's integration tests: AIJobs in, status, children and events out."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from aijob_api.conditions import Phase
from aijob_api.constants import LABEL_JOB_NAME
from aijob_api.models import AIJob
from aijob_kube.resources import AIJobResource
from lightkube import ApiError, Client
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Event, Pod

from tests.support.eventually import eventually

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


class AIJobs:
    """AIJobs of one test namespace, through the real API server."""

    def __init__(self, kube: Client, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace

    def create(self, body: dict[str, Any]) -> str:
        """Create an AIJob from a manifest (namespace set to the test's); return its name."""
        body = copy.deepcopy(body)
        body["metadata"]["namespace"] = self.namespace
        self.kube.create(AIJobResource.from_dict(body))
        return str(body["metadata"]["name"])

    def apply_example(self, file_name: str) -> str:
        """Create the AIJob exactly as an examples/ file has it (in the test's namespace)."""
        return self.create(yaml.safe_load((EXAMPLES / file_name).read_text()))

    def get(self, name: str) -> AIJob:
        """The AIJob as the API server has it now."""
        return AIJob.model_validate(
            dict(self.kube.get(AIJobResource, name, namespace=self.namespace))
        )

    def all(self) -> dict[str, AIJob]:
        """Every AIJob of the namespace, by name."""
        return {
            item.metadata.name: AIJob.model_validate(dict(item))
            for item in self.kube.list(AIJobResource, namespace=self.namespace)
            if item.metadata is not None and item.metadata.name
        }

    def patch_spec(self, name: str, spec: dict[str, Any]) -> None:
        """Merge-patch the spec, as `kubectl patch --type merge` would."""
        from lightkube.types import PatchType

        self.kube.patch(
            AIJobResource,
            name,
            {"spec": spec},
            namespace=self.namespace,
            patch_type=PatchType.MERGE,
        )

    def patch_status(self, name: str, status: dict[str, Any]) -> None:
        """Merge-patch the status (what the worker does through its own Role)."""
        from lightkube.types import PatchType

        self.kube.patch(
            AIJobResource.Status,
            name,
            {"status": status},
            namespace=self.namespace,
            patch_type=PatchType.MERGE,
        )

    def wait(
        self,
        name: str,
        check: Callable[[AIJob], bool],
        *,
        timeout: float,
        what: str,
    ) -> AIJob:
        """Wait until `check(aijob)` holds; return the AIJob."""

        def holds() -> AIJob | None:
            job = self.get(name)
            status = job.status
            assert check(job), f"{name}: {status.phase} {status.reason}: {status.message}"
            return job

        result = eventually(holds, timeout=timeout, what=f"{name}: {what}")
        assert result is not None
        return result

    def wait_phase(
        self, name: str, phase: Phase, *, timeout: float, reason: str | None = None
    ) -> AIJob:
        """Wait for a phase (and reason)."""
        return self.wait(
            name,
            lambda job: (
                job.status.phase is phase and (reason is None or job.status.reason == reason)
            ),
            timeout=timeout,
            what=f"phase {phase}" + (f" with reason {reason}" if reason else ""),
        )

    def job(self, name: str) -> Job | None:
        """The child Job, or None."""
        try:
            return self.kube.get(Job, name, namespace=self.namespace)
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise

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
