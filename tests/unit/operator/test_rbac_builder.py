"""Per-job least privilege: the Role reaches only its own AIJob and that AIJob's status, and
an identity found under the job's name is used only when this AIJob (its uid) controls it."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_api.routing import Framework
from aijob_operator.builders.meta import identity_name
from aijob_operator.builders.rbac import (
    IDENTITY_READY,
    Ownership,
    build_role,
    build_role_binding,
    build_service_account,
    identity_check,
    ownership,
)

from tests.unit.operator.factories import UID, aijob


def test_role_is_pinned_to_the_one_aijob() -> None:
    role = build_role(aijob("train"), Framework.SKLEARN).to_dict()
    assert role["metadata"]["name"] == "train-aijob-worker"
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
        "name": "train-aijob-worker",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "train-aijob-worker", "namespace": "ns"}
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


def test_an_aijob_named_like_a_chart_account_gets_a_name_of_its_own() -> None:
    # The chart's accounts are <fullname>-operator and <fullname>-gateway.
    assert identity_name("operator") == "operator-aijob-worker"
    assert not identity_name("operator").endswith(("-operator", "-gateway"))


def ref(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIJob",
        "name": "train",
        "uid": UID,
        "controller": True,
        **fields,
    }


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"ownerReferences": [ref()]}, Ownership.OURS),
        ({"ownerReferences": [ref(uid="an-older-uid")]}, Ownership.PREVIOUS),
        ({"ownerReferences": [ref()], "deletionTimestamp": "2026-01-01T00:00:00Z"}, Ownership.GONE),
        (None, Ownership.GONE),
        ({}, Ownership.FOREIGN),
        ({"ownerReferences": [ref(controller=False)]}, Ownership.FOREIGN),
        ({"ownerReferences": [ref(name="other")]}, Ownership.FOREIGN),
        ({"ownerReferences": [ref(kind="Deployment", apiVersion="apps/v1")]}, Ownership.FOREIGN),
        ({"ownerReferences": [ref(), ref(name="second")]}, Ownership.FOREIGN),
    ],
    ids=[
        "ours",
        "a deleted namesake's",
        "ours, being deleted",
        "vanished",
        "no owner",
        "owned, not controlled",
        "another AIJob's",
        "another kind's",
        "two controllers",
    ],
)
def test_ownership(metadata: dict[str, Any] | None, expected: Ownership) -> None:
    assert ownership(metadata, aijob("train")) is expected


def test_nothing_found_or_all_ours_is_ready() -> None:
    job = aijob("train")
    assert identity_check([], job) is IDENTITY_READY
    found = [
        ("ServiceAccount", {"ownerReferences": [ref()]}),
        ("Role", {"ownerReferences": [ref()]}),
    ]
    assert identity_check(found, job) is IDENTITY_READY


def test_a_strangers_object_fails_the_job_naming_it_and_its_owner() -> None:
    found = [
        ("ServiceAccount", {"ownerReferences": [ref(uid="old")]}),
        ("Role", {"ownerReferences": [ref(name="mine", uid="u-2")]}),
    ]
    check = identity_check(found, aijob("train"))
    assert check.fails
    assert check.phase is Phase.FAILED
    assert check.reason == Reason.IDENTITY_TAKEN
    assert check.message is not None
    assert "Role ns/train-aijob-worker exists and is not owned by this AIJob" in check.message
    assert "AIJob mine uid u-2" in check.message


def test_an_unowned_object_fails_the_job() -> None:
    check = identity_check([("RoleBinding", {"name": "train-aijob-worker"})], aijob("train"))
    assert check.fails
    assert check.message is not None
    assert "it has no owner" in check.message


def test_a_deleted_namesakes_objects_are_waited_for() -> None:
    found = [("ServiceAccount", {"ownerReferences": [ref(uid="old")]}), ("Role", None)]
    check = identity_check(found, aijob("train"))
    assert not check.fails
    assert check.phase is Phase.PENDING
    assert check.reason == Reason.WAITING_FOR_IDENTITY
    assert check.message is not None
    assert "ServiceAccount train-aijob-worker still belongs to a deleted AIJob" in check.message
    assert "Role train-aijob-worker is being deleted" in check.message
