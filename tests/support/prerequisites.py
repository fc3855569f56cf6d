"""What every aijob object needs in a cluster before the operator or the gateway runs:
aijob's CRDs (AIJob, AIEndpoint) and its PriorityClasses (the Helm chart installs both).

Both are cluster-wide and may be shared with other runs on the same cluster, so they are
applied idempotently and never deleted: the CRDs by server-side apply of the checked-in
crds/ files (so a run always uses the current schema), the PriorityClasses only created
when absent. Used by the integration fixtures and by the benchmarks.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from aijob_api.constants import CRD_NAME
from aijob_api.priority import PRIORITY_LEVELS
from lightkube import ApiError, Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.scheduling_v1 import PriorityClass

from tests.support.eventually import Timeout, eventually

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_FILES = sorted((REPO_ROOT / "crds").glob("aijob.dev_*.yaml"))
"""Every CRD of aijob (the AIJob's and the AIEndpoint's)."""
PRIORITY_CLASS_VALUES = {level.class_name: level.value for level in PRIORITY_LEVELS}
"""aijob's PriorityClasses and their values (the table the Helm chart's values follow)."""


def apply_crd(kube: Client) -> str:
    """aijob's CRDs from crds/, server-side applied and Established; returns the AIJob's name."""
    names = []
    for path in CRD_FILES:
        crd = CustomResourceDefinition.from_dict(yaml.safe_load(path.read_text()))
        assert isinstance(crd, CustomResourceDefinition)
        assert crd.metadata is not None
        kube.apply(crd, field_manager="aijob-tests", force=True)
        names.append(str(crd.metadata.name))

    def established() -> bool:
        for name in names:
            current = kube.get(CustomResourceDefinition, name)
            conditions = (current.status.conditions if current.status else None) or []
            assert any(c.type == "Established" and c.status == "True" for c in conditions), name
        return True

    eventually(established, timeout=Timeout.API, what="aijob's CRDs to be Established")
    return CRD_NAME


def ensure_priority_classes(kube: Client) -> dict[str, int]:
    """aijob-high, aijob-normal and aijob-low, created when absent (never changed)."""
    for name, value in PRIORITY_CLASS_VALUES.items():
        try:
            kube.create(
                PriorityClass(
                    metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"}),
                    value=value,
                    preemptionPolicy="PreemptLowerPriority",
                    description=f"aijob jobs with spec.priority {name.removeprefix('aijob-')}",
                )
            )
        except ApiError as error:
            if error.status.code != 409:
                raise
    return dict(PRIORITY_CLASS_VALUES)
