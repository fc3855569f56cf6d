"""Per-job least privilege: a ServiceAccount, Role and RoleBinding owned by the AIJob.

The worker's pod runs as the ServiceAccount; the Role lets it read its own AIJob
and patch that AIJob's status, nothing else (resourceNames pins both to the job).

An identity is never borrowed: the three objects are created only if absent, and one
found under the name counts only when this AIJob (its uid) is its controller.
`identity_check` decides, purely, what the objects found mean: one of a deleted AIJob
of the same name (garbage collection pending) is waited for, anyone else's fails the
job before any pod starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from aijob_api.conditions import Phase, Reason
from aijob_api.constants import API_VERSION, GROUP, KIND, PLURAL
from aijob_api.models import AIJob
from aijob_api.routing import Framework
from lightkube.models.rbac_v1 import PolicyRule, RoleRef, Subject
from lightkube.resources.core_v1 import ServiceAccount
from lightkube.resources.rbac_authorization_v1 import Role, RoleBinding

from aijob_operator.builders.meta import child_metadata, identity_name


def build_service_account(aijob: AIJob, framework: Framework) -> ServiceAccount:
    """The identity of the job's pods."""
    name = identity_name(_name(aijob))
    return ServiceAccount(
        metadata=child_metadata(aijob, name, framework),
        automountServiceAccountToken=True,
    )


def build_role(aijob: AIJob, framework: Framework) -> Role:
    """Read this AIJob, read and patch its status: nothing more."""
    name = _name(aijob)
    return Role(
        metadata=child_metadata(aijob, identity_name(name), framework),
        rules=[
            PolicyRule(apiGroups=[GROUP], resources=[PLURAL], resourceNames=[name], verbs=["get"]),
            PolicyRule(
                apiGroups=[GROUP],
                resources=[f"{PLURAL}/status"],
                resourceNames=[name],
                verbs=["get", "patch"],
            ),
        ],
    )


def build_role_binding(aijob: AIJob, framework: Framework) -> RoleBinding:
    """Bind the job's Role to the job's ServiceAccount."""
    name = identity_name(_name(aijob))
    return RoleBinding(
        metadata=child_metadata(aijob, name, framework),
        roleRef=RoleRef(apiGroup="rbac.authorization.k8s.io", kind="Role", name=name),
        subjects=[Subject(kind="ServiceAccount", name=name, namespace=aijob.metadata.namespace)],
    )


class Ownership(StrEnum):
    """Whose an object found under a per-job name is."""

    OURS = "ours"
    """This AIJob (its uid) is the controller: the object is the job's own."""
    PREVIOUS = "previous"
    """A deleted AIJob of the same name controls it (its uid differs, and no two AIJobs of one
    name live at once): the garbage collector is removing it."""
    GONE = "gone"
    """The object is being deleted, or vanished between the create and the read."""
    FOREIGN = "foreign"
    """Anyone else's, or no one's: never used."""


@dataclass(frozen=True)
class IdentityCheck:
    """What the per-job identity objects found mean: nothing (the job may start), a wait, or
    a failure, with the status the AIJob shows meanwhile."""

    message: str | None = None
    """Why the job cannot start yet (None: it can)."""
    fails: bool = False
    """An object is someone else's: the job fails. Otherwise it waits (a deleted namesake's
    objects, or vanishing ones) and is looked at again after `RECHECK_SECONDS`."""

    RECHECK_SECONDS: ClassVar[float] = 2.0

    @property
    def phase(self) -> Phase:
        """The phase the AIJob shows."""
        return Phase.FAILED if self.fails else Phase.PENDING

    @property
    def reason(self) -> str:
        """The reason the AIJob shows."""
        return Reason.IDENTITY_TAKEN if self.fails else Reason.WAITING_FOR_IDENTITY


IDENTITY_READY = IdentityCheck()


def ownership(metadata: Mapping[str, Any] | None, aijob: AIJob) -> Ownership:
    """Whose an object is, from its metadata (None: it does not exist)."""
    if metadata is None or metadata.get("deletionTimestamp"):
        return Ownership.GONE
    controllers = [
        ref for ref in metadata.get("ownerReferences") or () if ref.get("controller") is True
    ]
    if len(controllers) != 1:
        return Ownership.FOREIGN
    (ref,) = controllers
    if ref.get("apiVersion") != API_VERSION or ref.get("kind") != KIND:
        return Ownership.FOREIGN
    if ref.get("name") != aijob.metadata.name:
        return Ownership.FOREIGN
    return Ownership.OURS if ref.get("uid") == aijob.metadata.uid else Ownership.PREVIOUS


def identity_check(
    found: Sequence[tuple[str, Mapping[str, Any] | None]], aijob: AIJob
) -> IdentityCheck:
    """The verdict on the identity objects that existed already: (kind, metadata) of each.

    A foreign object fails the job whatever else is found; otherwise a deleted namesake's
    (or a vanishing) object makes it wait; objects that are all its own let it start.
    """
    name = identity_name(_name(aijob))
    namespace = aijob.metadata.namespace
    waiting: list[str] = []
    for kind, metadata in found:
        verdict = ownership(metadata, aijob)
        if verdict is Ownership.FOREIGN:
            return IdentityCheck(
                fails=True,
                message=(
                    f"{kind} {namespace}/{name} exists and is not owned by this AIJob "
                    f"({_owner_of(metadata)}): the job's pods would run as someone else's "
                    "identity, so none is started; delete it or give the AIJob another name"
                ),
            )
        if verdict is Ownership.PREVIOUS:
            waiting.append(f"{kind} {name} still belongs to a deleted AIJob of this name")
        elif verdict is Ownership.GONE:
            waiting.append(f"{kind} {name} is being deleted")
    if waiting:
        return IdentityCheck(
            message="; ".join(waiting) + ": waiting for the garbage collector to remove it"
        )
    return IDENTITY_READY


def _owner_of(metadata: Mapping[str, Any] | None) -> str:
    refs = (metadata or {}).get("ownerReferences") or ()
    if not refs:
        return "it has no owner"
    return "owned by " + ", ".join(
        f"{ref.get('kind')} {ref.get('name')} uid {ref.get('uid')}"
        + ("" if ref.get("controller") else " (not as controller)")
        for ref in refs
    )


def _name(aijob: AIJob) -> str:
    if not aijob.metadata.name:
        raise ValueError("metadata.name: the AIJob has no name")
    return aijob.metadata.name
