"""The shape of an RBAC table: what a component asks of the API server, and why.

The operator (`aijob_operator.access`) and the gateway (`aijob_gateway.access`) each keep
one next to their code; tests/unit/helm/test_rbac.py checks the chart grants exactly them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["cluster", "tenants", "release"]
"""Where a grant holds: every namespace (a ClusterRole bound cluster-wide); the tenant
namespaces (cluster-wide, or bound in each of the operator's watched namespaces when the chart
names them); the release's own namespace, on named objects only (a Role with resourceNames)."""


@dataclass(frozen=True)
class Access:
    """Verbs on one resource, the code that uses them, and where they hold."""

    group: str
    """The API group ("" for the core group)."""
    resource: str
    """The resource, with its subresource after a slash (`aijobs/status`)."""
    verbs: tuple[str, ...]
    why: str
    scope: Scope = "cluster"
    when: str | None = None
    """The chart value (a boolean) that turns this grant on, when it is optional."""
    unless: str | None = None
    """The chart value (a boolean) that turns this grant off (a need the option removes)."""
