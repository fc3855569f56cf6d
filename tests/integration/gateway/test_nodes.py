"""/v1/nodes against the local cluster's simulated GPU nodes and a real pod."""

from __future__ import annotations

import httpx
import pytest
from aijob_api.constants import GPU_RESOURCE, LABEL_JOB_NAME
from lightkube import Client
from lightkube.models.core_v1 import Container, PodSpec, ResourceRequirements, Toleration
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Pod

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import TenantKey


def test_nodes_show_gpus_in_use_and_own_jobs(
    api: httpx.Client, tenant: TenantKey, kube: Client, cluster: ClusterInfo
) -> None:
    if not cluster.local:
        pytest.skip("needs the local cluster's simulated GPU nodes")
    view = api.get("/v1/nodes").json()
    gpu_nodes = [node for node in view["nodes"] if node["gpuNode"]]
    assert len(gpu_nodes) >= 2
    assert all(node["gpuCapacity"] == 8 for node in gpu_nodes)
    target = gpu_nodes[0]["name"]
    before = {node["name"]: node["gpuInUse"] for node in view["nodes"]}
    kube.create(
        Pod(
            metadata=ObjectMeta(
                name="worker-0",
                namespace=tenant.namespace,
                labels={LABEL_JOB_NAME: "my-training"},
                annotations={"aijob.dev/fake-run-seconds": "600"},
            ),
            spec=PodSpec(
                nodeName=target,
                tolerations=[Toleration(key=GPU_RESOURCE, operator="Exists")],
                containers=[
                    Container(
                        name="worker",
                        image="worker:test",
                        resources=ResourceRequirements(
                            limits={GPU_RESOURCE: "3"}, requests={GPU_RESOURCE: "3"}
                        ),
                    )
                ],
            ),
        )
    )
    api.post(
        "/v1/jobs",
        json={
            "name": "my-training",
            "spec": {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}},
        },
    )

    def in_use() -> dict[str, object]:
        node: dict[str, object] = next(
            n for n in api.get("/v1/nodes").json()["nodes"] if n["name"] == target
        )
        assert node["gpuInUse"] == before[target] + 3, node
        assert node["jobs"] == ["my-training"]
        return node

    node = eventually(in_use, timeout=Timeout.SCHEDULING)
    assert node["gpuFree"] == node["gpuAllocatable"] - node["gpuInUse"]  # type: ignore[operator]
