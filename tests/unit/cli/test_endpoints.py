"""The CLI's endpoint pieces: manifests and records read locally, tables of endpoints and load."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aijob_cli.manifest import ManifestError, endpoint_body_from_file, records_from
from aijob_cli.monitor import monitor
from aijob_cli.render_endpoints import (
    MonitorRow,
    endpoints_table,
    latency_line,
    monitor_table,
    prediction_table,
)
from rich.console import Console
from rich.table import Table

MANIFEST = """\
apiVersion: aijob.dev/v1alpha1
kind: AIEndpoint
metadata:
  name: iris
  labels: {team: tabular}
  annotations: {aijob.dev/description: warm iris}
spec:
  model: {source: {trainingJob: iris-forest}}
  replicas: 2
  maxReplicas: 4
"""


def text(table: Table, width: int = 160) -> str:
    output = io.StringIO()
    Console(width=width, file=output, color_system=None).print(table)
    return output.getvalue()


def test_an_endpoint_manifest_becomes_the_create_body(tmp_path: Path) -> None:
    path = tmp_path / "endpoint.yaml"
    path.write_text(MANIFEST)
    body = endpoint_body_from_file(path)
    assert (body["name"], body["labels"], body["description"]) == (
        "iris",
        {"team": "tabular"},
        "warm iris",
    )
    assert body["spec"]["replicas"] == 2
    assert body["spec"]["concurrency"] == 16


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (MANIFEST.replace("replicas: 2", "replicas: 9"), "spec: replicas: must be within"),
        (MANIFEST.replace("kind: AIEndpoint", "kind: AIJob"), "kind: expected AIEndpoint"),
        (MANIFEST.replace("  name: iris\n", ""), "metadata.name"),
        (MANIFEST.replace("trainingJob: iris-forest", "uri: file:///m"), "model.type"),
        ("just text", "expected an AIEndpoint manifest"),
    ],
)
def test_a_bad_endpoint_manifest_names_the_field(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "endpoint.yaml"
    path.write_text(content)
    with pytest.raises(ManifestError, match=message):
        endpoint_body_from_file(path)


def test_records_from_flags_or_a_file(tmp_path: Path) -> None:
    assert records_from(["[1, 2]", '{"text": "hi"}', '"plain"'], None) == [
        [1, 2],
        {"text": "hi"},
        "plain",
    ]
    listed, wrapped = tmp_path / "list.json", tmp_path / "wrapped.json"
    listed.write_text(json.dumps([[1], [2]]))
    wrapped.write_text(json.dumps({"records": [[3]]}))
    assert records_from([], listed) == [[1], [2]]
    assert records_from([], wrapped) == [[3]]


@pytest.mark.parametrize(
    ("flags", "content", "message"),
    [
        (["[1,"], None, "--record 1: not JSON"),
        ([], None, "--record: give at least one record"),
        (["[1]"], "[[1]]", "one way, not both"),
        ([], "{}", "expected a list of records"),
        ([], "[]", "expected a list of records"),
    ],
)
def test_bad_records_are_refused_before_sending(
    tmp_path: Path, flags: list[str], content: str | None, message: str
) -> None:
    path = None
    if content is not None:
        path = tmp_path / "records.json"
        path.write_text(content)
    with pytest.raises(ManifestError, match=message):
        records_from(flags, path)


def endpoint_view(name: str, **status: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "demo",
        "createdAt": "2026-01-01T00:00:00Z",
        "spec": {"model": {"source": {"uri": "file:///m"}, "type": "svm"}, "replicas": 2},
        "status": status,
    }


def test_the_endpoints_table() -> None:
    page = {"total": 1, "items": [endpoint_view("wine", phase="Ready", readyReplicas=2)]}
    shown = text(endpoints_table(page))
    for cell in ("wine", "file:///m (svm)", "2/2", "Ready"):
        assert cell in shown


def test_a_prediction_shows_each_output_and_where_the_time_went() -> None:
    answer = {
        "outputs": [{"prediction": "setosa", "confidence": 0.98}, {"value": 3}],
        "timings": {"totalMs": 14.25, "dispatchMs": 1.1, "queueMs": 2.0, "inferMs": 9.0},
        "pod": "iris-0",
        "retries": 1,
    }
    shown = text(prediction_table(answer))
    assert "setosa" in shown
    assert "0.980" in shown
    assert '{"value": 3}' in shown
    line = latency_line(answer)
    assert line.startswith("latency 14.2 ms (gateway 1.1 ms")
    assert line.endswith("on pod iris-0, 1 retry")


STATS = {
    "readyPods": 2,
    "inFlight": 3,
    "queued": 5,
    "queuedByPriority": {"high": 1, "normal": 3, "low": 1},
    "latency": {"p50Ms": 12.3, "p99Ms": 48.1},
    "received": 530,
    "failed": 2,
    "retries": 7,
}


def test_the_monitor_table_has_one_row_per_endpoint() -> None:
    rows = [
        MonitorRow(endpoint_view("iris", phase="Ready"), STATS),
        MonitorRow(endpoint_view("gone"), None),
    ]
    lines = text(monitor_table(rows, "12:00:00")).splitlines()
    iris = next(line for line in lines if "iris" in line)
    cells = [cell.strip() for cell in iris.split("│")][1:-1]
    assert cells == [
        "iris",
        "Ready",
        "2 ready / 2",
        "3",
        "5 (1/3/1)",
        "12.3 ms",
        "48.1 ms",
        "530",
        "2",
        "7",
    ]
    gone = next(line for line in lines if "gone" in line)
    assert [cell.strip() for cell in gone.split("│")][4:-1] == ["-"] * 7


def test_monitor_once_prints_one_table_with_the_time() -> None:
    output = io.StringIO()
    console = Console(width=160, file=output, color_system=None)
    calls: list[int] = []

    def fetch() -> list[MonitorRow]:
        calls.append(1)
        return [MonitorRow(endpoint_view("iris", phase="Ready"), STATS)]

    monitor(fetch, console, interval=1.0, once=True, clock=lambda: datetime(2026, 1, 1, 9, 5, 7))
    assert calls == [1]
    assert "aijob endpoints, 09:05:07" in output.getvalue()
    assert "530" in output.getvalue()
