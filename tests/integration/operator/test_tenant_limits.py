"""Tenant limits enforced by the real API server: the chart's ValidatingAdmissionPolicy,
bindings and ResourceQuotas (rendered by `helm template` exactly as installed)
refuse kubectl's AIJobs beyond a tenant's priorities or GPUs per job, naming the field and
the limit, and hold back a job past the tenant's totals, whose status names the quota.

Each test binds only its own namespace (never a default binding: other suites share the
cluster), under a release name of its own; the cluster-scoped objects go at the end."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aijob_api.conditions import Phase, Reason
from aijob_api.constants import GPU_RESOURCE
from kopf.testing import KopfRunner
from lightkube import Client, codecs
from lightkube.resources.admissionregistration_v1 import (
    ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding,
)
from lightkube.resources.core_v1 import ResourceQuota

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout, eventually
from tests.support.helm import CHART, run_helm
from tests.support.kubectl import kubectl

ON_GPUS = {"model": {"type": "mlp"}, "dataset": {"name": "digits"}}
"""A model type whose runtime (pytorch) can use GPUs: its pods go to the KWOK GPU nodes."""
LONG_RUN = simulated({"aijob.dev/fake-run-seconds": "600"})
LIMITS = {"allowedPriorities": ["normal", "low"], "maxGpusPerJob": 2}

ApplyLimits = Callable[[dict[str, Any]], None]
CLUSTER_SCOPED: dict[str, type[Any]] = {
    "ValidatingAdmissionPolicy": ValidatingAdmissionPolicy,
    "ValidatingAdmissionPolicyBinding": ValidatingAdmissionPolicyBinding,
}
"""The rendered kinds that outlive the test's namespaces (deleted by the fixture)."""
TENANT_LIMITS = "tenant-limits"
"""The component label of the chart's tenant-limit objects (the only ones installed here)."""


@pytest.fixture
def tenant_limits(kube: Client, namespace: str, tmp_path: Path) -> Iterator[ApplyLimits]:
    """Install the chart's tenant-limit objects for this test's namespace (the tenant), under
    a release of its own; wait until the API server enforces them."""
    release = f"lim-{uuid.uuid4().hex[:8]}"
    cluster_scoped: list[tuple[type[Any], str]] = []

    def apply(limits: dict[str, Any]) -> None:
        values = tmp_path / "values.yaml"
        values.write_text(yaml.safe_dump({"tenants": [{"namespace": namespace, **limits}]}))
        result = run_helm(
            "template",
            release,
            str(CHART),
            "-n",
            f"{release}-system",
            "-f",
            str(values),
        )
        assert result.returncode == 0, result.stderr
        for obj in codecs.load_all_yaml(result.stdout):
            assert obj.metadata is not None
            if (obj.metadata.labels or {}).get("app.kubernetes.io/component") != TENANT_LIMITS:
                continue
            kube.create(obj)
            kind = CLUSTER_SCOPED.get(str(obj.kind))
            if kind is not None:
                cluster_scoped.append((kind, str(obj.metadata.name)))
        eventually(quotas_counted, timeout=Timeout.API, what="the quotas counted")
        probe = beyond(limits)
        if probe is not None:
            eventually(lambda: refused(probe), timeout=Timeout.API, what="the policy enforced")

    def quotas_counted() -> bool:
        for quota in kube.list(ResourceQuota, namespace=namespace):
            assert quota.status is not None
            assert quota.spec is not None
            assert quota.status.hard == quota.spec.hard, "the quota controller has not run"
        return True

    def beyond(limits: dict[str, Any]) -> dict[str, Any] | None:
        """A job the policy refuses under these limits; None when they set no per-job limit."""
        if "allowedPriorities" in limits:
            (priority, *_) = sorted({"high", "normal", "low"} - set(limits["allowedPriorities"]))
            return manifest("probe", namespace, priority=priority)
        if "maxGpusPerJob" in limits:
            gpus = {"gpu": limits["maxGpusPerJob"] + 1}
            return manifest("probe", namespace, resources=gpus, **ON_GPUS)
        return None

    def refused(body: dict[str, Any]) -> bool:
        """A server-side dry run (nothing is created) of `body` is refused by the policy."""
        probe = tmp_path / "probe.yaml"
        probe.write_text(yaml.safe_dump(body))
        result = kubectl("create", "--dry-run=server", "-f", str(probe), check=False)
        assert "(tenant limit " in result.stderr, f"not enforced yet: {result.stderr}"
        return True

    yield apply
    for kind, name in reversed(cluster_scoped):
        kube.delete(kind, name)


def create_with_kubectl(tmp_path: Path, body: dict[str, Any]) -> str:
    """`kubectl create -f` the manifest, as a tenant would; its stderr when refused."""
    path = tmp_path / f"{body['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(body))
    result = kubectl("create", "-f", str(path), check=False)
    assert result.returncode != 0, f"{body['metadata']['name']} was created: {result.stdout}"
    return result.stderr


def test_a_priority_beyond_the_tenants_is_refused_naming_the_limit(
    tenant_limits: ApplyLimits, aijobs: AIJobs, namespace: str, tmp_path: Path
) -> None:
    tenant_limits(LIMITS)
    refused = create_with_kubectl(tmp_path, manifest("urgent", namespace, priority="high"))
    assert (
        f"spec.priority: high is not allowed in namespace {namespace} "
        "(tenant limit allowedPriorities: normal,low)"
    ) in refused
    assert not aijobs.all(), "nothing was created"
    aijobs.create(manifest("allowed", namespace, priority="low"))
    assert set(aijobs.all()) == {"allowed"}


def test_too_many_gpus_per_job_are_refused_naming_the_limit(
    tenant_limits: ApplyLimits, aijobs: AIJobs, namespace: str, tmp_path: Path
) -> None:
    tenant_limits(LIMITS)
    greedy = manifest("greedy", namespace, resources={"gpu": 3}, **ON_GPUS)
    refused = create_with_kubectl(tmp_path, greedy)
    assert (
        "spec.resources.gpu: 3 GPUs per job exceed the limit of namespace "
        f"{namespace} (tenant limit maxGpusPerJob: 2)"
    ) in refused
    assert not aijobs.all()
    aijobs.create(manifest("fits", namespace, resources={"gpu": 2}, **ON_GPUS))
    assert set(aijobs.all()) == {"fits"}


def test_a_pod_made_by_hand_at_a_forbidden_priority_is_refused_by_the_quota(
    tenant_limits: ApplyLimits, namespace: str, tmp_path: Path, priority_classes: dict[str, int]
) -> None:
    """kubectl cannot go around the AIJob: a plain pod of aijob-high is refused too."""
    tenant_limits(LIMITS)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sneaky", "namespace": namespace},
        "spec": {
            "priorityClassName": "aijob-high",
            "containers": [{"name": "c", "image": "busybox"}],
        },
    }
    refused = create_with_kubectl(tmp_path, pod)
    assert "exceeded quota: aijob-priority-high-forbidden" in refused
    assert "limited: pods=0" in refused


@pytest.mark.parametrize(
    ("limits", "gpus", "quota", "words"),
    [
        (
            {"maxGpus": 2},
            (2, 1),
            "aijob-gpus",
            f"requested: requests.{GPU_RESOURCE}=1, used: requests.{GPU_RESOURCE}=2, "
            f"limited: requests.{GPU_RESOURCE}=2",
        ),
        (
            {"maxConcurrentPods": 1},
            (1, 1),
            "aijob-concurrent-pods",
            "requested: pods=1, used: pods=1, limited: pods=1",
        ),
    ],
    ids=["gpus in total", "concurrent pods"],
)
def test_a_job_past_the_tenants_total_waits_and_its_status_names_the_quota(
    tenant_limits: ApplyLimits,
    operator: KopfRunner,
    aijobs: AIJobs,
    namespace: str,
    limits: dict[str, Any],
    gpus: tuple[int, int],
    quota: str,
    words: str,
) -> None:
    tenant_limits(limits)
    first, second = gpus
    aijobs.create(
        manifest("first", namespace, resources={"gpu": first}, podTemplate=LONG_RUN, **ON_GPUS)
    )
    aijobs.wait_phase("first", Phase.RUNNING, timeout=Timeout.SCHEDULING)

    aijobs.create(
        manifest("second", namespace, resources={"gpu": second}, podTemplate=LONG_RUN, **ON_GPUS)
    )
    held = aijobs.wait_phase(
        "second", Phase.QUEUED, reason=Reason.QUOTA_EXCEEDED, timeout=Timeout.SCHEDULING
    )
    message = held.status.message or ""
    assert f"ResourceQuota {quota} holds back the pod of Job second" in message
    assert words in message
    assert not aijobs.pods("second"), "no pod was created"
    eventually(
        lambda: Reason.QUOTA_EXCEEDED in aijobs.event_reasons("second"),
        timeout=Timeout.API,
        what="a Warning event",
    )

    aijobs.patch_spec("first", {"cancel": True})
    aijobs.wait_phase("first", Phase.CANCELLED, timeout=Timeout.API)
    # The quota frees up; the Job controller's next try (its back-off is at most a minute)
    # creates the pod, and the status moves on.
    aijobs.wait_phase("second", Phase.RUNNING, timeout=Timeout.SIMULATED_JOB)
