"""Per-job least privilege: the Role reaches only its own AIJob and that AIJob's status."""

from __future__ import annotations

from aijob_api.routing import Framework
from aijob_operator.builders.rbac import build_role, build_role_binding, build_service_account

from tests.unit.operator.factories import UID, aijob


def test_role_is_pinned_to_the_one_aijob() -> None:
    role = build_role(aijob("train"), Framework.SKLEARN).to_dict()
    assert role["metadata"]["name"] == "aijob-train"
    assert role["rules"] == [
        {
            "apiGroups": ["aijob.dev"],
            "resources": ["aijobs"],
            "resourceNames": ["train"],
            "verbs": ["get"],
        },
        {
            "apiGroups": ["aijob.dev"],
            "resources": ["aijobs/status"],
            "resourceNames": ["train"],
            "verbs": ["get", "patch"],
        },
    ]


def test_binding_ties_the_role_to_the_service_account() -> None:
    binding = build_role_binding(aijob("train"), Framework.SKLEARN).to_dict()
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "aijob-train",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "aijob-train", "namespace": "ns"}
    ]


def test_everything_is_owned_by_the_aijob_and_labelled() -> None:
    job = aijob("train")
    for obj in (
        build_service_account(job, Framework.SKLEARN),
        build_role(job, Framework.SKLEARN),
        build_role_binding(job, Framework.SKLEARN),
    ):
        metadata = obj.to_dict()["metadata"]
        assert metadata["ownerReferences"][0]["uid"] == UID
        assert metadata["labels"]["aijob.dev/job-name"] == "train"
        assert metadata["namespace"] == "ns"
