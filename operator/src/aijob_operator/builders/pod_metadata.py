"""Which labels and annotations of `spec.podTemplate` may reach a worker pod: the allow-list.

Pod metadata is not inert: an annotation can switch AppArmor to unconfined, take a pod out
of a service mesh or pin it against the cluster autoscaler, and a label can make a pod
match another namespace's NetworkPolicy. The CRD already refuses the prefixes aijob and
the Job controller own (`aijob_api.validation`); every other key must start with one of
the prefixes the cluster administrator allows (operator settings
`AIJOB_OPERATOR_POD_LABEL_PREFIXES` and `AIJOB_OPERATOR_POD_ANNOTATION_PREFIXES`, chart
values `workers.podMetadata.*`). By default none is allowed. A key outside them fails the
AIJob before any pod starts, with the field and the key named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aijob_api.cel import spoken_list
from aijob_api.spec import AIJobSpec


@dataclass(frozen=True)
class PodMetadataPolicy:
    """The prefixes a worker pod's user labels and annotations may start with."""

    label_prefixes: tuple[str, ...] = ()
    annotation_prefixes: tuple[str, ...] = ()


def pod_metadata_problem(spec: AIJobSpec, policy: PodMetadataPolicy) -> str | None:
    """Why `spec.podTemplate` holds a key the administrator does not allow, or None."""
    template = spec.pod_template
    if template is None:
        return None
    return _problem(
        template.labels, "spec.podTemplate.labels", policy.label_prefixes, "POD_LABEL_PREFIXES"
    ) or _problem(
        template.annotations,
        "spec.podTemplate.annotations",
        policy.annotation_prefixes,
        "POD_ANNOTATION_PREFIXES",
    )


def _problem(
    metadata: Mapping[str, str], where: str, prefixes: Sequence[str], setting: str
) -> str | None:
    for key in sorted(metadata):
        if not any(key.startswith(prefix) for prefix in prefixes):
            allowed = (
                f"only keys under {spoken_list([repr(p) for p in prefixes])} are allowed"
                if prefixes
                else "no key is allowed"
            )
            return (
                f"{where}: the key {key!r} is not allowed on worker pods ({allowed}; the "
                f"cluster administrator sets the list: operator setting AIJOB_OPERATOR_{setting})"
            )
    return None
