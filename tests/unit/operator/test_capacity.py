"""fit_group: whether a whole group of pods fits the nodes now (table-driven), and quantities."""

from __future__ import annotations

import pytest
from aijob_operator.capacity import (
    NodeCapacity,
    PodRequest,
    Resources,
    fit_group,
    parse_quantity,
    tolerates,
)

GPU_TAINT = ("nvidia.com/gpu", "present", "NoSchedule")
GPU_TOLERATION = ("nvidia.com/gpu", "Exists", None, "NoSchedule")
GIB = 2**30


def gpu_node(name: str, gpus: int = 8, **kw: object) -> NodeCapacity:
    return NodeCapacity(
        name=name,
        allocatable=Resources(gpu=gpus, cpu_milli=64_000, memory=512 * GIB),
        labels={"nvidia.com/gpu.product": "A100"},
        taints=(GPU_TAINT,),
        **kw,  # type: ignore[arg-type]
    )


CPU_NODE = NodeCapacity("cpu-0", Resources(0, 32_000, 128 * GIB), labels={})
EIGHT_GPUS = PodRequest(Resources(8, 500, GIB), node_selector={}, tolerations=(GPU_TOLERATION,))


@pytest.mark.parametrize(
    ("nodes", "used", "pod", "count", "fits", "placeable"),
    [
        ([gpu_node("g0"), gpu_node("g1")], {}, EIGHT_GPUS, 4, False, 2),
        ([gpu_node(f"g{i}") for i in range(4)], {}, EIGHT_GPUS, 4, True, 4),
        ([gpu_node("g0"), gpu_node("g1")], {}, EIGHT_GPUS, 2, True, 2),
        ([gpu_node("g0"), gpu_node("g1")], {"g1": Resources(gpu=1)}, EIGHT_GPUS, 2, False, 1),
        ([gpu_node("g0", schedulable=False), gpu_node("g1")], {}, EIGHT_GPUS, 2, False, 1),
        ([gpu_node("g0", ready=False), gpu_node("g1")], {}, EIGHT_GPUS, 2, False, 1),
        (
            [gpu_node("g0")],
            {},
            PodRequest(Resources(8, 500, GIB), node_selector={}),  # no toleration
            1,
            False,
            0,
        ),
        (
            [gpu_node("g0")],
            {},
            PodRequest(Resources(2, 500, GIB), {}, (GPU_TOLERATION,)),
            4,
            True,
            4,  # four pods of 2 GPUs on one node of 8
        ),
        (
            [gpu_node("g0"), gpu_node("g1")],
            {},
            PodRequest(
                Resources(8, 500, GIB), {"nvidia.com/gpu.product": "H100"}, (GPU_TOLERATION,)
            ),
            1,
            False,
            0,
        ),
        ([CPU_NODE], {}, PodRequest(Resources(0, 500, GIB), {}), 2, True, 2),
        (
            [CPU_NODE],
            {"cpu-0": Resources(cpu_milli=31_600)},
            PodRequest(Resources(0, 500, GIB), {}),
            2,
            False,
            0,
        ),
    ],
)
def test_fit(
    nodes: list[NodeCapacity],
    used: dict[str, Resources],
    pod: PodRequest,
    count: int,
    fits: bool,
    placeable: int,
) -> None:
    verdict = fit_group(nodes, used, pod, count)
    assert (verdict.fits, verdict.placeable) == (fits, placeable)
    assert sum(n for _, n in verdict.placement) == placeable


def test_the_message_says_how_many_of_what_the_nodes_can_hold() -> None:
    verdict = fit_group([gpu_node("g0"), gpu_node("g1"), CPU_NODE], {}, EIGHT_GPUS, 4)
    assert verdict.message == (
        "needs 4 pods x (8 nvidia.com/gpu, 500m cpu, 1Gi memory) at once; "
        "2 node(s) able to run one can hold 2 of them now"
    )


def test_a_fitting_group_is_spread_as_the_nodes_allow() -> None:
    verdict = fit_group([gpu_node(f"g{i}") for i in range(4)], {}, EIGHT_GPUS, 4)
    assert verdict.placement == (("g0", 1), ("g1", 1), ("g2", 1), ("g3", 1))
    assert verdict.message == "all 4 pods fit at once on 4 node(s)"


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        (GPU_TOLERATION, GPU_TAINT, True),
        (("nvidia.com/gpu", "Equal", "present", None), GPU_TAINT, True),
        (("nvidia.com/gpu", "Equal", "absent", None), GPU_TAINT, False),
        ((None, "Exists", None, None), GPU_TAINT, True),
        (("other", "Exists", None, None), GPU_TAINT, False),
        (("nvidia.com/gpu", "Exists", None, "NoExecute"), GPU_TAINT, False),
    ],
)
def test_tolerations_match_as_kubernetes_matches_them(
    toleration: tuple[str | None, str, str | None, str | None],
    taint: tuple[str, str | None, str],
    expected: bool,
) -> None:
    assert tolerates([toleration], taint) is expected


@pytest.mark.parametrize(
    ("text", "milli", "value"),
    [
        ("8", False, 8),
        ("500m", True, 500),
        ("2", True, 2000),
        ("1.5", True, 1500),
        ("512Gi", False, 512 * GIB),
        ("1G", False, 10**9),
        ("128974848", False, 128974848),
        ("100Mi", False, 100 * 2**20),
        ("1e3", False, 1000),
    ],
)
def test_quantities(text: str, milli: bool, value: int) -> None:
    assert parse_quantity(text, milli=milli) == value


def test_a_bad_quantity_is_named() -> None:
    with pytest.raises(ValueError, match="'lots'"):
        parse_quantity("lots")
