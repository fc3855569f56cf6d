"""Per-job least privilege: a ServiceAccount, Role and RoleBinding owned by the AIJob.

The worker's pod runs as the ServiceAccount; the Role lets it read its own AIJob
and patch that AIJob's status, nothing else (resourceNames pins both to the job).
"""

from __future__ import annotations

from aijob_api.constants import GROUP, PLURAL
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


def _name(aijob: AIJob) -> str:
    if not aijob.metadata.name:
        raise ValueError("metadata.name: the AIJob has no name")
    return aijob.metadata.name
