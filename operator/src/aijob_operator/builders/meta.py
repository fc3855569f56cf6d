"""Names, labels and owner references shared by everything an AIJob owns (and the owner
reference of every aijob resource)."""

from __future__ import annotations

from typing import Final

from aijob_api.constants import (
    API_VERSION,
    KIND,
    LABEL_FRAMEWORK,
    LABEL_JOB_NAME,
    LABEL_MANAGED_BY,
    LABEL_PRIORITY,
    LABEL_TASK,
    MANAGED_BY,
)
from aijob_api.resource import AIJob
from aijob_api.routing import Framework
from lightkube.models.meta_v1 import ObjectMeta, OwnerReference


def job_name(aijob_name: str) -> str:
    """Name of the child Job: the AIJob's own name, so `kubectl get jobs` reads naturally."""
    return aijob_name


IDENTITY_SUFFIX: Final = "-aijob-worker"
"""Ends the name of every per-job ServiceAccount, Role and RoleBinding.

A suffix, not a prefix: the chart names its own accounts `<fullname>-<component>` and the
release (hence the fullname) can be anything, so no prefix is safe from it, while no chart
component ends with this suffix nor is a suffix of it (tests/unit/helm proves it on the
rendered chart). The AIJob's name is at most 61 characters (its CRD rule), well under the
253 a ServiceAccount's may have."""


def identity_name(aijob_name: str) -> str:
    """Name of the per-job ServiceAccount, Role and RoleBinding."""
    return f"{aijob_name}{IDENTITY_SUFFIX}"


def selector_labels(aijob_name: str) -> dict[str, str]:
    """The label that ties a child object (Job, Pod, RBAC) to its AIJob."""
    return {LABEL_JOB_NAME: aijob_name}


def child_labels(aijob: AIJob, framework: Framework) -> dict[str, str]:
    """Labels on every child object: the AIJob's name, task, framework, priority, manager."""
    name = _name_of(aijob)
    return {
        **selector_labels(name),
        LABEL_TASK: aijob.spec.task.value,
        LABEL_FRAMEWORK: framework.value,
        LABEL_PRIORITY: aijob.spec.priority.value,
        LABEL_MANAGED_BY: MANAGED_BY,
    }


def owner_reference(aijob: AIJob) -> OwnerReference:
    """The controller reference that makes deleting an AIJob delete what it owns."""
    return controller_reference(KIND, _name_of(aijob), aijob.metadata.uid)


def controller_reference(kind: str, name: str, uid: str | None) -> OwnerReference:
    """The controller reference to one of aijob's resources (deleting it deletes the child)."""
    if not uid:
        raise ValueError(f"metadata.uid: an owner reference needs the {kind}'s uid")
    return OwnerReference(
        apiVersion=API_VERSION,
        kind=kind,
        name=name,
        uid=uid,
        controller=True,
        blockOwnerDeletion=True,
    )


def child_metadata(aijob: AIJob, name: str, framework: Framework) -> ObjectMeta:
    """Metadata of a child object: name, namespace, labels, owner."""
    return ObjectMeta(
        name=name,
        namespace=aijob.metadata.namespace,
        labels=child_labels(aijob, framework),
        ownerReferences=[owner_reference(aijob)],
    )


def _name_of(aijob: AIJob) -> str:
    if not aijob.metadata.name:
        raise ValueError("metadata.name: the AIJob has no name")
    return aijob.metadata.name
