"""spec.env, envFrom, volumes and placement on a real API server with the operator in-process:
they reach the Job's pod template, a GPU product places the pod on the GPU nodes that carry
it, and a Secret or claim the allow-list refuses fails the job, naming the field, with no Job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_api.environment import GPU_PRODUCT_LABEL
from lightkube import ApiError, Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Node, Secret

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout

GPU_PRODUCT = "NVIDIA-A100-SXM4-80GB"
"""What the local cluster's KWOK GPU nodes are labelled with (hack/ node definitions)."""
USER: dict[str, Any] = {
    "framework": "pytorch",
    "model": {"type": "mlp"},
    "env": [
        {"name": "MODE", "value": "fast"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "aijob-user-creds", "key": "t"}}},
    ],
    "envFrom": [{"secretRef": {"name": "aijob-user-env"}}],
    "volumes": [{"claimName": "aijob-user-data", "mountPath": "/data"}],
    "placement": {"gpuProduct": GPU_PRODUCT},
    "resources": {"gpu": 1},
}


@pytest.mark.usefixtures("operator")
def test_env_secrets_claims_and_gpu_product_reach_the_pod_template(aijobs: AIJobs) -> None:
    name = aijobs.apply_example("train-with-secrets.yaml")
    job = aijobs.wait_job(name, timeout=Timeout.API)
    assert job.spec is not None
    assert job.spec.template.spec is not None
    pod = job.spec.template.spec
    (container,) = pod.containers
    env = {item.name: item for item in container.env or []}
    assert env["RUN_NOTE"].value == "with-my-secrets"
    token = env["TOKEN"].valueFrom
    assert token is not None
    assert token.secretKeyRef is not None
    assert (token.secretKeyRef.name, token.secretKeyRef.key) == ("aijob-user-hub", "token")
    assert [item.secretRef.name for item in container.envFrom or [] if item.secretRef] == [
        "aijob-user-env"
    ]
    (claim,) = [item for item in pod.volumes or [] if item.persistentVolumeClaim is not None]
    assert claim.persistentVolumeClaim is not None
    assert (claim.persistentVolumeClaim.claimName, claim.persistentVolumeClaim.readOnly) == (
        "aijob-user-datasets",
        True,
    )
    (mount,) = [item for item in container.volumeMounts or [] if item.name == claim.name]
    assert (mount.mountPath, mount.readOnly) == ("/data", True)
    assert (pod.nodeSelector or {})[GPU_PRODUCT_LABEL] == GPU_PRODUCT


@pytest.mark.usefixtures("operator")
def test_a_gpu_product_places_the_pod_on_a_node_that_has_it(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    spec = {key: value for key, value in USER.items() if key != "volumes"}
    aijobs.create(
        manifest(
            "placed",
            namespace,
            **spec,
            podTemplate=simulated({"aijob.dev/fake-run-seconds": "30"}),
        )
    )
    aijobs.wait_phase("placed", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    (pod,) = aijobs.pods("placed")
    assert pod.spec is not None
    assert pod.spec.nodeName
    node = kube.get(Node, pod.spec.nodeName)
    assert node.metadata is not None
    assert (node.metadata.labels or {}).get(GPU_PRODUCT_LABEL) == GPU_PRODUCT


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (
            {"envFrom": [{"secretRef": {"name": "aijob-storage"}}]},
            "spec.envFrom[0].secretRef.name",
        ),
        (
            {
                "env": [
                    {"name": "K", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
                ]
            },
            "spec.env[0].valueFrom.secretKeyRef.name",
        ),
        (
            {"volumes": [{"claimName": "team-data", "mountPath": "/data"}]},
            "spec.volumes[0].claimName",
        ),
    ],
)
@pytest.mark.usefixtures("operator")
def test_a_secret_or_claim_not_allowed_fails_the_job_before_any_job(
    aijobs: AIJobs, namespace: str, extra: dict[str, Any], field: str
) -> None:
    aijobs.create(manifest("refused", namespace, **extra))
    failed = aijobs.wait_phase("refused", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    assert (failed.status.message or "").startswith(f"{field}: ")
    assert aijobs.job("refused") is None


@pytest.fixture
def other_tenant(kube: Client) -> Iterator[str]:
    """Tenant A: a namespace of its own, with an allowed Secret."""
    name = f"tenant-a-{uuid.uuid4().hex[:8]}"
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"})))
    kube.create(
        Secret(
            metadata=ObjectMeta(name="aijob-user-a-token", namespace=name),
            stringData={"token": "tenant-a-only"},
        )
    )
    try:
        yield name
    finally:
        kube.delete(Namespace, name)


@pytest.mark.usefixtures("operator")
def test_tenant_b_naming_tenant_as_secret_reaches_only_its_own_namespace(
    aijobs: AIJobs, kube: Client, namespace: str, other_tenant: str
) -> None:
    """A reference is a name in the job's own namespace: tenant B's job naming tenant A's
    Secret gets a Job in B whose pod asks B's namespace, where no such Secret exists."""
    spec = {"envFrom": [{"secretRef": {"name": "aijob-user-a-token"}}]}
    aijobs.create(manifest("hostile", namespace, **spec))
    job = aijobs.wait_job("hostile", timeout=Timeout.API)
    assert job.metadata is not None
    assert job.metadata.namespace == namespace != other_tenant
    assert job.spec is not None
    assert job.spec.template.spec is not None
    (container,) = job.spec.template.spec.containers
    (source,) = container.envFrom or []
    assert source.secretRef is not None
    assert source.secretRef.to_dict() == {"name": "aijob-user-a-token"}
    with pytest.raises(ApiError) as missing:
        kube.get(Secret, "aijob-user-a-token", namespace=namespace)
    assert missing.value.status.code == 404
