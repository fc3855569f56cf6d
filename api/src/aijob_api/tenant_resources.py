"""The administrator's allow-list of the Secrets and claims a tenant's jobs may name.

A job names Secrets (`spec.env[].valueFrom.secretKeyRef`, `spec.envFrom[].secretRef`, a
hub token's `spec.model.pretrained.tokenSecret`) and PersistentVolumeClaims
(`spec.volumes[].claimName`) by name only, so the pod reaches those of the job's own
namespace and no other tenant's. Within its namespace a job may name only those whose
names match one of the administrator's globs (`fnmatch` patterns), by default
`aijob-user-*` for both: a tenant keeps what its jobs may read apart by its name. The
tenant's store credentials (`aijob-storage`) are never referenceable, whatever the globs
say, nor the claims the operator reserves (the shared hostPath-mode artifacts claim).

`spec_resource_problem` is pure, so the operator (which fails such a job before any Job
exists) and the gateway (422 at submission) apply the same rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Final

from aijob_api.spec import AIJobSpec
from aijob_api.storage import STORAGE_SECRET

DEFAULT_ALLOWED: Final = ("aijob-user-*",)
"""The globs of Secret and claim names allowed when the administrator sets none."""
NEVER_ALLOWED_SECRETS: Final = frozenset({STORAGE_SECRET})
"""Secrets no job may name: the tenant's own store credentials."""


@dataclass(frozen=True)
class TenantResources:
    """Which Secret and claim names (globs) a tenant's jobs may name; `reserved_claims`
    are refused whatever the globs say."""

    secrets: tuple[str, ...] = DEFAULT_ALLOWED
    volumes: tuple[str, ...] = DEFAULT_ALLOWED
    reserved_claims: frozenset[str] = frozenset()

    def secret_problem(self, name: str) -> str | None:
        """Why a job may not name the Secret `name`, or None."""
        if name in NEVER_ALLOWED_SECRETS:
            return f"the Secret {name!r} holds the tenant's store credentials: jobs cannot name it"
        if not any(fnmatchcase(name, glob) for glob in self.secrets):
            return (
                f"the Secret {name!r} is not allowed: the operator's tenantResources.secrets "
                f"allows only {_globs(self.secrets)} (ask the admin)"
            )
        return None

    def claim_problem(self, name: str) -> str | None:
        """Why a job may not mount the claim `name`, or None."""
        if name in self.reserved_claims:
            return f"the claim {name!r} is aijob's own: jobs cannot mount it"
        if not any(fnmatchcase(name, glob) for glob in self.volumes):
            return (
                f"the claim {name!r} is not allowed: the operator's tenantResources.volumes "
                f"allows only {_globs(self.volumes)} (ask the admin)"
            )
        return None


def _globs(globs: tuple[str, ...]) -> str:
    return ", ".join(repr(glob) for glob in globs) or "none"


def spec_secrets(spec: AIJobSpec) -> Iterator[tuple[str, str]]:
    """Every (field, Secret name) the spec names."""
    for index, var in enumerate(spec.env):
        if var.value_from is not None:
            yield (
                f"spec.env[{index}].valueFrom.secretKeyRef.name",
                var.value_from.secret_key_ref.name,
            )
    for index, source in enumerate(spec.env_from):
        yield f"spec.envFrom[{index}].secretRef.name", source.secret_ref.name
    pretrained = spec.model.pretrained
    if pretrained is not None and pretrained.token_secret is not None:
        yield "spec.model.pretrained.tokenSecret.name", pretrained.token_secret.name


def spec_resource_problem(spec: AIJobSpec, allowed: TenantResources) -> tuple[str, str] | None:
    """The first (field, message) naming a Secret or claim the tenant may not use, or None."""
    for field, name in spec_secrets(spec):
        problem = allowed.secret_problem(name)
        if problem is not None:
            return field, f"{field}: {problem}"
    for index, volume in enumerate(spec.volumes):
        field = f"spec.volumes[{index}].claimName"
        problem = allowed.claim_problem(volume.claim_name)
        if problem is not None:
            return field, f"{field}: {problem}"
    return None
