"""Identities that cannot be borrowed, on a real API server: each AIJob's pods run as the
ServiceAccount this AIJob owns, or not at all; the operator's own namespace is left alone;
pod metadata outside the administrator's allow-list never reaches a pod."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_operator.builders.meta import identity_name
from aijob_operator.runtime import IGNORED_REASON
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ServiceAccount
from lightkube.resources.rbac_authorization_v1 import Role, RoleBinding
from lightkube.types import CascadeType

from tests.integration.operator.support import AIJobs, manifest
from tests.support.eventually import Timeout, eventually


def owner_uids(kube: Client, namespace: str, name: str) -> set[str]:
    """The controller uids of the job's ServiceAccount, Role and RoleBinding."""
    name = identity_name(name)
    uids = set()
    for metadata in (
        kube.get(ServiceAccount, name, namespace=namespace).metadata,
        kube.get(Role, name, namespace=namespace).metadata,
        kube.get(RoleBinding, name, namespace=namespace).metadata,
    ):
        assert metadata is not None
        uids |= {ref.uid for ref in metadata.ownerReferences or () if ref.controller}
    return uids


def pod_account(aijobs: AIJobs, name: str) -> str:
    job = aijobs.job(name)
    assert job is not None
    assert job.spec is not None
    assert job.spec.template.spec is not None
    return str(job.spec.template.spec.serviceAccountName)


@pytest.mark.usefixtures("operator")
def test_a_job_named_like_a_chart_account_runs_as_its_own(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    # The chart's operator account, as a release named "aijob" in this namespace would have it.
    kube.create(ServiceAccount(metadata=ObjectMeta(name="aijob-operator", namespace=namespace)))
    aijobs.create(manifest("operator", namespace))
    job = aijobs.wait_phase("operator", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    assert pod_account(aijobs, "operator") == "operator-aijob-worker"
    assert owner_uids(kube, namespace, "operator") == {job.metadata.uid}


@pytest.mark.usefixtures("operator")
def test_an_identity_someone_else_made_fails_the_job_before_any_pod(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    planted = identity_name("borrower")
    kube.create(ServiceAccount(metadata=ObjectMeta(name=planted, namespace=namespace)))
    aijobs.create(manifest("borrower", namespace))
    job = aijobs.wait_phase(
        "borrower", Phase.FAILED, reason=Reason.IDENTITY_TAKEN, timeout=Timeout.API
    )
    assert job.status.message is not None
    assert f"ServiceAccount {namespace}/{planted} exists and is not owned by this AIJob" in (
        job.status.message
    )
    assert "it has no owner" in job.status.message
    assert aijobs.job("borrower") is None
    assert aijobs.pods("borrower") == []
    eventually(
        lambda: Reason.IDENTITY_TAKEN in aijobs.event_reasons("borrower"), timeout=Timeout.API
    )


@pytest.mark.usefixtures("operator")
def test_delete_then_recreate_runs_with_the_new_jobs_own_identity(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    first = aijobs.create(manifest("again", namespace))
    old = aijobs.wait_phase(first, Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    assert owner_uids(kube, namespace, "again") == {old.metadata.uid}
    aijobs.kube.delete(
        aijobs.resource, "again", namespace=namespace, cascade=CascadeType.BACKGROUND
    )
    eventually(lambda: "again" not in aijobs.all(), timeout=Timeout.API, what="AIJob gone")
    aijobs.create(manifest("again", namespace))  # at once: the old children may still be there
    new = aijobs.wait_phase("again", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    assert new.metadata.uid != old.metadata.uid
    assert owner_uids(kube, namespace, "again") == {new.metadata.uid}
    job = aijobs.job("again")
    assert job is not None
    assert job.metadata is not None
    assert {ref.uid for ref in job.metadata.ownerReferences or ()} == {new.metadata.uid}
    assert pod_account(aijobs, "again") == identity_name("again")


@pytest.mark.usefixtures("operator")
def test_pod_metadata_outside_the_allow_list_fails_the_job_naming_the_key(
    aijobs: AIJobs, namespace: str
) -> None:
    # The tests' operator allows only the simulated pods' aijob.dev/fake- annotations.
    annotations = {"sidecar.istio.io/inject": "false"}
    aijobs.create(manifest("mesh-bypass", namespace, podTemplate={"annotations": annotations}))
    job = aijobs.wait_phase(
        "mesh-bypass", Phase.FAILED, reason=Reason.INVALID_SPEC, timeout=Timeout.API
    )
    assert job.status.message is not None
    assert (
        "spec.podTemplate.annotations: the key 'sidecar.istio.io/inject' is not allowed"
        in job.status.message
    )
    assert aijobs.job("mesh-bypass") is None


@pytest.fixture
def own_namespace_operator(
    namespace: str,
    aijob_crd: str,
    priority_classes: dict[str, int],
    operator_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[KopfRunner]:
    """An operator that takes the test's namespace for its own (as the chart's does with the
    release's): it watches it, and must leave everything in it alone."""
    monkeypatch.setenv("AIJOB_OPERATOR_OWN_NAMESPACE", namespace)
    monkeypatch.setenv("AIJOB_OPERATOR_NAMESPACES", namespace)
    args = ["run", "--standalone", "--namespace", namespace, "-m", "aijob_operator"]
    with KopfRunner(args, timeout=60) as runner:
        yield runner
    assert runner.exit_code == 0, runner.output


def test_an_aijob_in_the_operators_own_namespace_is_ignored_and_told(
    own_namespace_operator: KopfRunner, aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    aijobs.create(manifest("operator", namespace))
    eventually(
        lambda: IGNORED_REASON in aijobs.event_reasons("operator"),
        timeout=Timeout.API,
        what="the ignored AIJob's Warning Event",
    )
    (event,) = [e for e in aijobs.events("operator") if e.reason == IGNORED_REASON]
    assert event.type == "Warning"
    assert f"{namespace} is the aijob operator's own namespace" in str(event.message)
    # The handler saw it (the Event says so) and did nothing else.
    assert aijobs.get("operator").status.phase is None
    assert aijobs.job("operator") is None
    assert not list(
        kube.list(ServiceAccount, namespace=namespace, labels={"aijob.dev/job-name": "operator"})
    )
