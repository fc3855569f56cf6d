"""The admin's rule for `spec.code.requirements`: where a job may install packages, from where.

Each runtime of the catalog may carry a `requirements` rule: the namespaces whose jobs may
install requirements (`"*"`: all) and the package index they come from (`indexUrl`, with
optional `extraIndexUrls` and `trustedHosts`, reached without TLS verification), and how
long the install may take. A runtime without a rule, or a namespace the rule does not
list, refuses such a job before any Job is made, naming the field and the rule
(`requirements_problem`, like `customImages`). Where it is allowed, the worker learns the
index from the variables of `requirements_env` and installs with the `uv` its image keeps
for this only (docs/workers.md).
"""

from __future__ import annotations

from typing import Annotated

from aijob_api.code import (
    ENV_REQUIREMENTS_EXTRA_INDEX_URLS,
    ENV_REQUIREMENTS_INDEX_URL,
    ENV_REQUIREMENTS_TIMEOUT,
    ENV_REQUIREMENTS_TRUSTED_HOSTS,
)
from aijob_api.spec import AIJobSpec
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

INDEX_URL_PATTERN = r"^https?://[^\s]+$"
HOST_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$"
DEFAULT_TIMEOUT_SECONDS = 600


class RequirementsRule(BaseModel):
    """Which namespaces may install `spec.code.requirements` on a runtime, and from where."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    namespaces: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """The namespaces allowed; `"*"` allows every namespace."""
    index_url: Annotated[str, Field(pattern=INDEX_URL_PATTERN)]
    """The package index (PEP 503 simple API) the requirements come from."""
    extra_index_urls: list[Annotated[str, Field(pattern=INDEX_URL_PATTERN)]] = Field(
        default_factory=list
    )
    trusted_hosts: list[Annotated[str, Field(pattern=HOST_PATTERN)]] = Field(default_factory=list)
    """Hosts reached over plain HTTP or without verifying their certificate."""
    timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = DEFAULT_TIMEOUT_SECONDS
    """How long the install may take before the job fails (bad input, not retried)."""

    def allows(self, namespace: str) -> bool:
        """Whether jobs of `namespace` may install requirements."""
        return "*" in self.namespaces or namespace in self.namespaces


def requirements_problem(
    rule: RequirementsRule | None, runtime_name: str, namespace: str, spec: AIJobSpec
) -> str | None:
    """Why the job may not install its requirements here (naming the field and the rule)."""
    if spec.code is None or not spec.code.requirements:
        return None
    if rule is None:
        return (
            f"spec.code.requirements: the {runtime_name} runtime installs no requirements: the "
            "runtime catalog has no requirements rule for it (ask the admin)"
        )
    if not rule.allows(namespace):
        return (
            f"spec.code.requirements: requirements are not allowed in namespace {namespace!r} "
            f"on the {runtime_name} runtime: the runtime catalog's requirements.namespaces "
            "does not list it (ask the admin)"
        )
    return None


def requirements_env(rule: RequirementsRule | None, spec: AIJobSpec) -> dict[str, str]:
    """The worker's variables naming the index, for a job that installs requirements."""
    if rule is None or spec.code is None or not spec.code.requirements:
        return {}
    env = {
        ENV_REQUIREMENTS_INDEX_URL: rule.index_url,
        ENV_REQUIREMENTS_TIMEOUT: str(rule.timeout_seconds),
    }
    if rule.extra_index_urls:
        env[ENV_REQUIREMENTS_EXTRA_INDEX_URLS] = " ".join(rule.extra_index_urls)
    if rule.trusted_hosts:
        env[ENV_REQUIREMENTS_TRUSTED_HOSTS] = " ".join(rule.trusted_hosts)
    return env
