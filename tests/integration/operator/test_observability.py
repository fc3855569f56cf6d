"""What a deployment watches: Prometheus metrics, the liveness probe, Events, structured logs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aijob_api.conditions import Phase

from tests.integration.operator.process import OperatorProcess, free_port
from tests.integration.operator.support import AIJobs, manifest
from tests.support.eventually import Timeout, eventually


@pytest.fixture
def observed_operator(
    namespace: str, aijob_crd: str, priority_classes: dict[str, int], tmp_path: Path
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(
        namespace,
        tmp_path / "operator.log",
        metrics_port=free_port(),
        liveness_port=free_port(),
        extra_env={"AIJOB_OPERATOR_LOG_FORMAT": "json"},
    )
    process.start()
    yield process
    assert process.stop() == 0, process.log()


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in metrics.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        series, _, label_text = head.partition("{")
        found = ",".join(sorted(label_text.rstrip("}").split(","))) if label_text else ""
        if series == name and found == wanted:
            return float(value)
    return None


def test_metrics_liveness_and_json_logs(
    observed_operator: OperatorProcess, aijobs: AIJobs, namespace: str
) -> None:
    aijobs.create(manifest("watched", namespace))
    aijobs.wait_phase("watched", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    metrics_url = f"http://127.0.0.1:{observed_operator.metrics_port}/metrics"

    def scraped() -> str:
        text = httpx.get(metrics_url, timeout=5).text
        assert sample(text, "aijob_jobs", phase="Succeeded", framework="sklearn") == 1, text
        return text

    text = eventually(scraped, timeout=Timeout.API, what="the metrics to show the job")
    assert (
        sample(text, "aijob_operator_api_requests_total", verb="create", resource="job", code="201")
        == 1
    )
    assert (
        sample(
            text,
            "aijob_operator_api_requests_total",
            verb="create",
            resource="serviceaccount",
            code="201",
        )
        == 1
    )
    assert (sample(text, "aijob_operator_reconcile_duration_seconds_count", outcome="ok") or 0) >= 3
    assert (
        sample(text, "aijob_queue_wait_seconds_count", framework="sklearn", priority="normal") == 1
    )
    assert sample(text, "aijob_job_creation_seconds_count") == 1
    assert sample(text, "aijob_transitions_total", phase="Succeeded", reason="Completed") == 1

    health = httpx.get(f"http://127.0.0.1:{observed_operator.liveness_port}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json()["reconcilers"]["aijobs"] == 1

    records = [
        json.loads(line) for line in observed_operator.log().splitlines() if line.startswith("{")
    ]
    transitions = [
        record for record in records if "watched: Succeeded Completed" in record.get("message", "")
    ]
    assert transitions, "one JSON log line per transition"
