"""The group a pod belongs to, its ranks, torchrun's command line, TF_CONFIG, rank writes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from aijob_api.models import AIJobSpec, AIJobStatus
from aijob_api.routing import Framework

from aijob_worker.context import JobContext
from aijob_worker.distributed import (
    ENV_RANK_DIR,
    GroupSetup,
    Rank,
    RankStatusWriter,
    group_environment,
    rank_progress_interval,
    tf_config,
    torchrun_arguments,
)
from aijob_worker.errors import BadInputError
from aijob_worker.job import launches_processes
from aijob_worker.launch import exit_status, rank_environment, root_failure
from aijob_worker.runners import RunnerRegistry
from tests.softmax_runner import SoftmaxRunner

TWO_NODES = {
    "AIJOB_NODES": "2",
    "AIJOB_PROCESSES_PER_NODE": "4",
    "AIJOB_MASTER_ADDR": "10.96.0.20",
    "AIJOB_MASTER_PORT": "29500",
    "AIJOB_WORKER_HOSTS": "10.96.0.20:29500,10.96.0.21:29500",
    "JOB_COMPLETION_INDEX": "1",
}


@pytest.mark.parametrize(
    "env",
    [{}, {"AIJOB_NODES": "1", "AIJOB_PROCESSES_PER_NODE": "1"}],
)
def test_without_a_group_a_job_runs_one_process_as_always(env: dict[str, str]) -> None:
    assert GroupSetup.from_env(env) is None
    assert Rank.from_env(env, None) == Rank(0, 1, 0)


def test_one_pod_of_several_processes_needs_no_addresses() -> None:
    group = GroupSetup.from_env({"AIJOB_NODES": "1", "AIJOB_PROCESSES_PER_NODE": "2"})
    assert group == GroupSetup(nodes=1, processes_per_node=2)
    assert group.world_size == 2
    assert torchrun_arguments(group) == [
        "--nnodes", "1", "--node-rank", "0", "--nproc-per-node", "2",
        "--master-addr", "127.0.0.1", "--master-port", "29500",
        "--max-restarts", "0", "--module", "aijob_worker",
    ]  # fmt: skip


def test_a_group_of_nodes_reads_every_variable_and_meets_at_rank_0s_service() -> None:
    group = GroupSetup.from_env(TWO_NODES)
    assert group is not None
    assert (group.nodes, group.processes_per_node, group.node_rank) == (2, 4, 1)
    assert group.world_size == 8
    arguments = torchrun_arguments(group)
    assert arguments[arguments.index("--master-addr") + 1] == "10.96.0.20"
    assert arguments[arguments.index("--node-rank") + 1] == "1"


def test_node_rank_0_meets_the_others_on_its_own_loopback() -> None:
    group = GroupSetup.from_env({**TWO_NODES, "JOB_COMPLETION_INDEX": "0"})
    assert group is not None
    arguments = torchrun_arguments(group)
    assert arguments[arguments.index("--master-addr") + 1] == "127.0.0.1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"AIJOB_NODES": "two"}, "AIJOB_NODES"),
        ({"AIJOB_PROCESSES_PER_NODE": "0"}, "AIJOB_PROCESSES_PER_NODE"),
        ({"JOB_COMPLETION_INDEX": "2"}, "JOB_COMPLETION_INDEX"),
        ({"JOB_COMPLETION_INDEX": ""}, "JOB_COMPLETION_INDEX"),
        ({"AIJOB_MASTER_ADDR": ""}, "AIJOB_MASTER_ADDR"),
        ({"AIJOB_MASTER_PORT": "x"}, "AIJOB_MASTER_PORT"),
        ({"AIJOB_WORKER_HOSTS": "10.96.0.20:29500"}, "AIJOB_WORKER_HOSTS"),
        ({"AIJOB_WORKER_HOSTS": "10.96.0.20:29500,10.96.0.21"}, "AIJOB_WORKER_HOSTS"),
    ],
)
def test_an_unusable_variable_is_bad_input_naming_it(change: dict[str, str], field: str) -> None:
    with pytest.raises(BadInputError) as raised:
        GroupSetup.from_env({**TWO_NODES, **change})
    assert raised.value.field == field


def test_tf_config_lists_the_workers_in_rank_order_and_names_this_pods_task() -> None:
    group = GroupSetup.from_env(TWO_NODES)
    assert group is not None
    assert tf_config(group) == {
        "cluster": {"worker": ["10.96.0.20:29500", "10.96.0.21:29500"]},
        "task": {"type": "worker", "index": 1},
    }
    added = group_environment(group, {}, framework="tensorflow", interface_exists=lambda _: False)
    assert json.loads(added["TF_CONFIG"]) == tf_config(group)
    assert "TF_CONFIG" not in group_environment(group, {}, framework="pytorch")


def test_gloo_is_pointed_at_eth0_unless_told_otherwise_or_there_is_none() -> None:
    group = GroupSetup(nodes=1, processes_per_node=2)

    def added(env: dict[str, str], *, has_eth0: bool) -> dict[str, str]:
        return group_environment(
            group, env, framework="pytorch", interface_exists=lambda name: has_eth0
        )

    assert added({}, has_eth0=True) == {"GLOO_SOCKET_IFNAME": "eth0"}
    assert added({"GLOO_SOCKET_IFNAME": "lo"}, has_eth0=True) == {}
    assert added({}, has_eth0=False) == {}


def test_a_process_torchrun_started_knows_its_rank_and_where_its_message_goes() -> None:
    env = {ENV_RANK_DIR: "/tmp/ranks", "RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1"}
    assert Rank.from_env(env, GroupSetup.from_env(TWO_NODES)) == Rank(5, 8, 1)
    assert rank_environment(env)["AIJOB_TERMINATION_MESSAGE_PATH"] == "/tmp/ranks/rank-5"
    assert rank_environment({"RANK": "5"}) == {"RANK": "5"}  # not started by the launcher


def test_a_tensorflow_worker_is_ranked_by_its_node() -> None:
    assert Rank.from_env(TWO_NODES, GroupSetup.from_env(TWO_NODES)) == Rank(1, 2, 0)


def test_ranks_other_than_0_write_less_often_in_large_groups() -> None:
    assert rank_progress_interval(5.0, Rank(0, 64)) == 5.0
    assert rank_progress_interval(5.0, Rank(1, 2)) == 5.0
    assert rank_progress_interval(5.0, Rank(3, 64)) == 40.0


class Recorder:
    """A status writer that keeps what it was asked to write."""

    def __init__(self) -> None:
        self.patches: list[dict[str, Any]] = []

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        self.patches.append(dict(patch))

    def read_status(self) -> AIJobStatus:
        return AIJobStatus()


def test_rank_0_writes_the_jobs_share_and_its_entry_in_one_request() -> None:
    inner = Recorder()
    RankStatusWriter(inner, Rank(0, 2)).patch_status(
        {"progress": {"epoch": 2}, "results": {"metrics": {}}}
    )
    assert inner.patches == [
        {"progress": {"epoch": 2}, "results": {"metrics": {}}, "ranks": {"0": {"epoch": 2}}}
    ]


def test_other_ranks_write_only_their_own_entry() -> None:
    inner = Recorder()
    writer = RankStatusWriter(inner, Rank(1, 2))
    writer.patch_status({"progress": {"epoch": 2}, "metricHistory": {}, "results": {}})
    writer.patch_status({"checkpoint": {"uri": "file:///c"}})  # nothing of theirs: no request
    assert inner.patches == [{"ranks": {"1": {"epoch": 2}}}]


def _failure(exitcode: int, timestamp: int) -> SimpleNamespace:
    return SimpleNamespace(exitcode=exitcode, timestamp=timestamp)


def test_the_pod_exits_with_the_code_of_the_rank_that_failed_first() -> None:
    assert root_failure({0: _failure(1, 20), 1: _failure(65, 10)}) == (1, 65)
    # a rank the launcher stopped because another failed is not the cause
    assert root_failure({0: _failure(-15, 5), 1: _failure(1, 10)}) == (1, 1)
    assert root_failure({0: _failure(143, 5)}) == (0, 143)
    assert exit_status(-9) == 137
    assert exit_status(65) == 65


class _DDPSoftmaxRunner(SoftmaxRunner):
    """The softmax runner, declared able to train as every rank of a group."""

    model_types: ClassVar[frozenset[str]] = frozenset({"ddp_softmax"})
    distributed: ClassVar[bool] = True


def _context(spec: dict[str, Any], group: GroupSetup | None) -> JobContext:
    return JobContext(
        spec=AIJobSpec.model_validate(spec),
        framework=Framework(spec.get("framework", "pytorch")),
        artifact_uri="file:///tmp/artifacts",
        group=group,
    )


CODE = {"task": "training", "code": {"configMap": "code", "entrypoint": "train.py"}}
IRIS = {"dataset": {"name": "iris"}}
TWO_PROCESSES = GroupSetup(nodes=1, processes_per_node=2)
REGISTRY = RunnerRegistry([SoftmaxRunner, _DDPSoftmaxRunner])


@pytest.mark.parametrize(
    ("spec", "group", "env", "launches"),
    [
        ({**CODE, "framework": "pytorch"}, TWO_PROCESSES, {}, True),
        ({**CODE, "framework": "pytorch"}, None, {}, False),  # one process: as always
        ({**CODE, "framework": "pytorch"}, TWO_PROCESSES, {ENV_RANK_DIR: "/r"}, False),  # a rank
        ({**CODE, "framework": "tensorflow"}, GroupSetup.from_env(TWO_NODES), {}, False),
        (
            {"task": "training", "framework": "pytorch", "model": {"type": "ddp_softmax"}, **IRIS},
            TWO_PROCESSES,
            {},
            True,
        ),
        (
            {"task": "training", "framework": "pytorch", "model": {"type": "softmax"}, **IRIS},
            TWO_PROCESSES,
            {},
            False,  # a runner that trains in one process keeps one
        ),
    ],
)
def test_who_starts_torchrun(
    spec: dict[str, Any], group: GroupSetup | None, env: dict[str, str], launches: bool
) -> None:
    assert launches_processes(_context(spec, group), env, REGISTRY) is launches


def test_a_built_in_model_on_several_nodes_is_bad_input_naming_the_field() -> None:
    spec = {"task": "training", "framework": "pytorch", "model": {"type": "ddp_softmax"}, **IRIS}
    with pytest.raises(BadInputError) as raised:
        launches_processes(_context(spec, GroupSetup.from_env(TWO_NODES)), {}, REGISTRY)
    assert raised.value.field == "spec.distributed.nodes"
