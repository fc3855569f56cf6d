"""/v1/jobs with spec.distributed: refused with a 422 naming the field (the API models' rules),
accepted when it is a group the workers can run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lightkube import Client

from tests.support.gateway import TenantKey, get_aijob, list_aijobs

GROUP: dict[str, Any] = {
    "task": "training",
    "framework": "pytorch",
    "code": {"configMap": "ddp-code", "entrypoint": "train.py"},
    "dataset": {"name": "digits"},
}


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        (
            {
                **GROUP,
                "framework": "sklearn",
                "model": {"type": "svm"},
                "distributed": {"nodes": 2},
            },
            "spec",
            "distributed: more than one node or process needs framework pytorch or tensorflow",
        ),
        (
            {**GROUP, "resources": {"gpu": 2}, "distributed": {"processesPerNode": 4}},
            "spec",
            "distributed.processesPerNode: 4 processes asked for",
        ),
        ({**GROUP, "distributed": {"nodes": 65}}, "spec.distributed.nodes", "less than or equal"),
        (
            {
                "task": "training",
                "model": {"type": "resnet"},
                "dataset": {"name": "digits"},
                "distributed": {"nodes": 2},
            },
            "spec",
            "distributed.nodes: more than one node runs your own distributed code",
        ),
    ],
)
def test_a_group_the_workers_cannot_run_is_a_422_naming_the_field(
    api: httpx.Client, tenant: TenantKey, kube: Client, spec: dict[str, Any], field: str, words: str
) -> None:
    response = api.post("/v1/jobs", json={"spec": spec})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == field, problem
    assert words in problem["detail"], problem
    assert list_aijobs(kube, tenant.namespace) == []


def test_a_two_node_cpu_job_is_accepted(api: httpx.Client, tenant: TenantKey, kube: Client) -> None:
    spec = {**GROUP, "resources": {"gpu": 0, "cpu": "500m"}, "distributed": {"nodes": 2}}
    response = api.post("/v1/jobs", json={"spec": spec})
    assert response.status_code == 201, response.text
    stored = get_aijob(kube, tenant.namespace, response.json()["name"])
    assert stored["spec"]["distributed"] == {"nodes": 2}
