"""A distributed job's Job, rank Services and variables (builders.group, builders.job)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aijob_api import contract
from aijob_api.validation import DNS_1035_LABEL_PATTERN
from aijob_operator.builders.group import (
    COMPLETION_INDEX_LABEL,
    build_rank_service,
    deadline_left,
    group_env,
    group_request,
    rank_service_name,
)
from aijob_operator.builders.job import PodSettings, build_job
from aijob_operator.capacity import Resources
from aijob_operator.catalog import load_catalog

from tests.unit.operator.factories import GROUP_SPEC, UID, aijob, at, stamp

CATALOG = load_catalog()
GROUP = GROUP_SPEC
ADDRESSES = ["10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13"]


def built(spec: dict[str, Any], **kw: Any) -> dict[str, Any]:
    job = aijob("ddp", spec=spec)
    runtime = CATALOG.resolve_for(job.spec)
    return build_job(job, runtime, PodSettings(), **kw).to_dict()


def env(job: dict[str, Any]) -> dict[str, Any]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def test_a_group_is_an_indexed_job_of_n_started_suspended_done_when_rank_0_succeeds() -> None:
    spec = built(GROUP, addresses=ADDRESSES)["spec"]
    assert spec["completionMode"] == "Indexed"
    assert (spec["completions"], spec["parallelism"]) == (4, 4)
    assert spec["successPolicy"] == {"rules": [{"succeededIndexes": "0"}]}
    assert spec["suspend"] is True
    assert spec["backoffLimit"] == 0  # the first failed pod ends the attempt
    assert "backoffLimitPerIndex" not in spec
    rules = spec["podFailurePolicy"]["rules"]
    assert [rule["action"] for rule in rules] == ["Ignore", "FailJob"]


def test_a_group_pod_gets_the_rendezvous_variables() -> None:
    variables = env(built(GROUP, addresses=ADDRESSES, group_failures=2))
    assert variables[contract.ENV_NODES] == "4"
    assert variables[contract.ENV_PROCESSES_PER_NODE] == "8"
    assert variables[contract.ENV_MASTER_ADDR] == "10.0.0.10"
    assert variables[contract.ENV_MASTER_PORT] == "29500"
    assert variables[contract.ENV_WORKER_HOSTS] == (
        "10.0.0.10:29500,10.0.0.11:29500,10.0.0.12:29500,10.0.0.13:29500"
    )
    assert variables[contract.ENV_FAILED_ATTEMPTS] == "2"  # the group's, not the pod's


def test_a_group_needs_one_address_per_node() -> None:
    with pytest.raises(ValueError, match="needs 4 addresses"):
        built(GROUP, addresses=ADDRESSES[:3])


def test_one_pod_of_several_gpus_gets_the_process_count_and_no_rendezvous() -> None:
    job = built({**GROUP, "distributed": None, "resources": {"gpu": 2}})
    variables = env(job)
    assert (variables[contract.ENV_NODES], variables[contract.ENV_PROCESSES_PER_NODE]) == (
        "1",
        "2",
    )
    assert contract.ENV_MASTER_ADDR not in variables
    assert job["spec"]["suspend"] is False
    assert job["spec"]["completions"] == 1
    assert "successPolicy" not in job["spec"]


def test_a_single_pod_job_is_unchanged() -> None:
    spec = {**GROUP, "distributed": None, "resources": {"gpu": 1}}
    job = built(spec)
    assert contract.ENV_NODES not in env(job)
    assert job["spec"]["backoffLimitPerIndex"] == 2
    assert job["spec"]["completions"] == 1


def test_a_queued_group_is_left_to_kueue() -> None:
    job = built({**GROUP, "queue": "team-a"}, addresses=ADDRESSES)
    assert job["spec"]["suspend"] is True
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"


def test_a_rank_service_selects_its_index_and_publishes_unready_pods() -> None:
    job = aijob("ddp", spec=GROUP)
    service = build_rank_service(job, CATALOG.resolve_for(job.spec), 3).to_dict()
    assert service["metadata"]["name"] == "ddp-3"
    assert service["metadata"]["ownerReferences"][0]["uid"] == UID
    spec = service["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["selector"] == {"aijob.dev/job-name": "ddp", COMPLETION_INDEX_LABEL: "3"}
    assert spec["publishNotReadyAddresses"] is True
    assert spec["ports"] == [
        {"name": "rendezvous", "port": 29500, "targetPort": 29500, "protocol": "TCP"}
    ]


def test_a_rank_service_name_stays_a_dns_label() -> None:
    name = rank_service_name("a" * 61, 63)
    assert len(name) == 63
    assert name.endswith("-63")


@pytest.mark.parametrize("name", ["1job", "9" * 61, "0-a"])
def test_a_name_that_starts_with_a_digit_gets_a_letter_first(name: str) -> None:
    service = rank_service_name(name, 12)
    assert re.fullmatch(DNS_1035_LABEL_PATTERN, service), service
    assert len(service) <= 63
    assert service.startswith("job-")
    assert service.endswith("-12")


def test_no_variables_for_one_pod_of_one_process() -> None:
    job = aijob("one", spec={**GROUP, "distributed": None, "resources": {}})
    assert group_env(job.spec, ()) == []


def test_the_group_request_is_the_pods_requests_and_placement() -> None:
    job = aijob("ddp", spec={**GROUP, "resources": {"gpu": 8, "cpu": "4", "memory": "16Gi"}})
    request = group_request(job, CATALOG.resolve_for(job.spec), PodSettings())
    assert request.resources == Resources(gpu=8, cpu_milli=4000, memory=16 * 2**30)
    assert ("nvidia.com/gpu", "Exists", None, "NoSchedule") in request.tolerations


def test_a_restarted_group_gets_what_is_left_of_the_timeout() -> None:
    spec = {**GROUP, "timeoutSeconds": 600}
    first = aijob("ddp", spec=spec, status={"startTime": stamp(0)})
    assert deadline_left(first, at(100)) is None  # a first attempt: the Job's own limit
    group = {"nodes": 4, "processesPerNode": 8, "restarts": 1}
    again = aijob("ddp", spec=spec, status={"startTime": stamp(0), "group": group})
    assert deadline_left(again, at(100)) == 500
    assert deadline_left(again, at(700)) == 1
    assert deadline_left(aijob("ddp", spec=GROUP, status={"group": group}), at(100)) is None
    job = build_job(
        again, CATALOG.resolve_for(again.spec), PodSettings(), addresses=ADDRESSES,
        deadline_seconds=500,
    )  # fmt: skip
    assert job.spec is not None
    assert job.spec.activeDeadlineSeconds == 500
