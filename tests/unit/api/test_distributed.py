"""spec.distributed: the pydantic mirror of its CEL rules, and the group's shape with defaults."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.crd import build_crd
from aijob_api.distributed import GROUP_FRAMEWORKS, DistributedSpec, group_shape
from aijob_api.spec import AIJobSpec
from pydantic import ValidationError

CODE = {"configMap": "ddp-code", "entrypoint": "train.py"}


def job(distributed: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    """A training job of your own code on PyTorch (several nodes run your own code)."""
    document: dict[str, Any] = {
        "task": "training",
        "framework": "pytorch",
        "code": CODE,
        "dataset": {"name": "digits"},
        **extra,
    }
    if distributed is not None:
        document["distributed"] = distributed
    return {key: value for key, value in document.items() if value is not None}


@pytest.mark.parametrize(
    ("distributed", "gpus", "shape"),
    [
        (None, 0, (1, 1)),
        (None, 4, (1, 4)),
        ({"nodes": 4}, 8, (4, 8)),
        ({"nodes": 2}, 0, (2, 1)),
        ({"nodes": 2, "processesPerNode": 2}, 8, (2, 2)),
        ({"processesPerNode": 3}, 0, (1, 3)),
    ],
)
def test_the_shape_fills_in_one_process_per_gpu(
    distributed: dict[str, Any] | None, gpus: int, shape: tuple[int, int]
) -> None:
    spec = AIJobSpec.model_validate(job(distributed, resources={"gpu": gpus}))
    assert group_shape(spec.distributed, spec.resources.gpu) == shape


def test_a_two_node_cpu_job_is_accepted() -> None:
    spec = AIJobSpec.model_validate(job({"nodes": 2}, resources={"gpu": 0, "cpu": "500m"}))
    assert spec.distributed == DistributedSpec(nodes=2)
    wire = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert wire["distributed"] == {"nodes": 2}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            job({"nodes": 2}, framework="sklearn"),
            "distributed: more than one node or process needs framework pytorch or tensorflow; "
            "this job runs on sklearn",
        ),
        (
            job({"processesPerNode": 2}, framework=None, code=None, model={"type": "svm"}),
            "distributed: more than one node or process needs framework",
        ),
        (
            job({"nodes": 2}, framework=None, code=None, model={"type": "resnet"}),
            "distributed.nodes: more than one node runs your own distributed code (spec.code)",
        ),
        (
            {
                "task": "inference",
                "model": {"type": "mlp", "source": {"uri": "s3://b/m"}},
                "input": {"records": [[1]]},
                "distributed": {"nodes": 2},
            },
            "distributed: more than one node or process is for training jobs only",
        ),
        (
            job({"nodes": 2, "processesPerNode": 4}, resources={"gpu": 2}),
            "distributed.processesPerNode: 4 processes asked for, but the pod has 2 GPU(s)",
        ),
        (job({"nodes": 65}), "distributed.nodes"),
        (job({"nodes": 0}), "distributed.nodes"),
        (job({"processesPerNode": 0}), "distributed.processesPerNode"),
    ],
)
def test_bad_shapes_name_the_field(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AIJobSpec.model_validate(document)
    assert message in str(caught.value)


@pytest.mark.parametrize("framework", [f.value for f in GROUP_FRAMEWORKS])
def test_group_frameworks_take_several_nodes(framework: str) -> None:
    spec = AIJobSpec.model_validate(job({"nodes": 3}, framework=framework))
    assert spec.distributed is not None
    assert spec.distributed.nodes == 3


def test_one_node_one_process_is_fine_anywhere() -> None:
    spec = AIJobSpec.model_validate(
        job({"nodes": 1}, framework=None, code=None, model={"type": "svm"})
    )
    assert group_shape(spec.distributed, 0) == (1, 1)


def test_a_built_in_model_may_ask_for_processes_on_one_node() -> None:
    spec = AIJobSpec.model_validate(
        job({"processesPerNode": 2}, framework=None, code=None, model={"type": "resnet"})
    )
    assert group_shape(spec.distributed, 0) == (1, 2)


def test_the_crd_carries_the_rules_and_the_field_is_immutable() -> None:
    crd = build_crd()
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    rules = [rule["rule"] for rule in schema["x-kubernetes-validations"]]
    assert any("self.distributed.processesPerNode <= self.resources.gpu" in r for r in rules)
    assert any("'random_forest'" in r and "self.framework in" in r for r in rules)
    assert any(r.startswith("has(self.distributed) == has(oldSelf.distributed)") for r in rules)
    assert any("self.distributed.nodes == 1 || has(self.code)" in r for r in rules)
    nodes = schema["properties"]["distributed"]["properties"]["nodes"]
    assert (nodes["minimum"], nodes["maximum"]) == (1, 64)
