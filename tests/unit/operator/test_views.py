"""Compact views of Jobs and Pods read from API bodies."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_operator.endpoint_views import serve_address
from aijob_operator.views import JobView, PodView, owner_key

from tests.unit.operator.factories import (
    JOB_UID,
    UID,
    at,
    disrupted,
    job_body,
    pod_body,
    stamp,
    unschedulable,
)


def test_job_view() -> None:
    view = JobView.from_body(
        job_body(active=1, failed=2, suspend=True, startTime="2026-01-01T12:00:00Z")
    )
    assert (view.name, view.uid, view.owner_uid) == ("train", JOB_UID, UID)
    assert (view.active, view.failed, view.succeeded, view.suspended) == (1, 2, 0, True)
    assert view.start_time is not None
    assert view.start_time.tzinfo is not None
    assert view.condition("Complete") is None


def test_pod_view_reads_scheduler_disruption_and_counts() -> None:
    body = pod_body(conditions=[unschedulable("0/3 nodes"), disrupted()], failures=2, ignored=1)
    view = PodView.from_body(body)
    assert view.unschedulable == "0/3 nodes"
    assert view.disruption is not None
    assert view.disruption.startswith("PreemptionByScheduler: ")
    assert (view.failure_count, view.ignored_failure_count, view.job_uid) == (2, 1, JOB_UID)


def test_the_stall_clock_starts_when_the_worker_container_runs() -> None:
    assert PodView.from_body(pod_body(phase="Running", created=3)).running_since == at(4)
    pending = pod_body(phase="Pending", waiting={"reason": "ContainerCreating"}, node="n")
    assert PodView.from_body(pending).running_since is None  # image pulls do not count
    sidecar_first = pod_body(phase="Running", created=3)
    sidecar_first["status"]["containerStatuses"].insert(
        0, {"name": "sidecar", "state": {"running": {"startedAt": stamp(1)}}}
    )
    assert PodView.from_body(sidecar_first).running_since == at(4)  # the worker's own


def test_exit_is_read_from_the_last_state_too() -> None:
    body = pod_body(phase="Failed")
    body["status"]["containerStatuses"] = [
        {
            "name": "worker",
            "state": {},
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
        }
    ]
    view = PodView.from_body(body)
    assert view.exit is not None
    assert (view.exit.exit_code, view.exit.reason) == (137, "OOMKilled")


def test_owner_key() -> None:
    assert owner_key(pod_body(job="abc")) == ("ns", "abc")
    assert owner_key({"metadata": {"namespace": "ns", "labels": {}}}) is None


@pytest.mark.parametrize(
    ("body", "address"),
    [
        ({"status": {}}, None),
        ({"status": {"podIP": "10.1.2.3"}}, "http://10.1.2.3:8080"),
        ({"status": {"podIP": "fd00::7"}}, "http://[fd00::7]:8080"),
        (
            {
                "spec": {"containers": [{"ports": [{"name": "http", "containerPort": 9000}]}]},
                "status": {"podIP": "127.0.0.1"},
            },
            "http://127.0.0.1:9000",
        ),
    ],
)
def test_a_model_server_pod_is_reached_at_its_ip_and_http_port(
    body: dict[str, Any], address: str | None
) -> None:
    assert serve_address(body) == address
