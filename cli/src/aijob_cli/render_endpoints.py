"""How the CLI shows endpoints, predictions and the live monitor (Rich)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from aijob_cli.render import age_of, styled

ENDPOINT_PHASE_STYLES = {
    "Pending": "yellow",
    "Loading": "cyan",
    "Ready": "green",
    "Updating": "cyan",
    "Degraded": "magenta",
    "Failed": "red",
}


def endpoint_phase(view: dict[str, Any]) -> str:
    """The endpoint's phase (Pending before the operator has written one)."""
    return str((view.get("status") or {}).get("phase") or "Pending")


def _model_source(spec: dict[str, Any]) -> str:
    model = spec.get("model") or {}
    source = model.get("source") or {}
    where = source.get("trainingJob") or source.get("uri") or "-"
    return f"{where} ({model['type']})" if model.get("type") else str(where)


def _replicas(view: dict[str, Any]) -> str:
    status = view.get("status") or {}
    return f"{status.get('readyReplicas', 0)}/{view['spec'].get('replicas', 1)}"


def _framework(view: dict[str, Any]) -> str:
    return str((view.get("status") or {}).get("framework") or view["spec"].get("framework") or "-")


def endpoints_table(page: dict[str, Any]) -> Table:
    """`aijob endpoints list`."""
    table = Table(title=f"{page['total']} endpoint(s)", title_justify="left")
    for header in ("NAME", "MODEL", "FRAMEWORK", "READY", "PHASE", "AGE"):
        table.add_column(header, no_wrap=header == "NAME")
    for view in page["items"]:
        table.add_row(
            view["name"],
            _model_source(view["spec"]),
            _framework(view),
            _replicas(view),
            styled(endpoint_phase(view), ENDPOINT_PHASE_STYLES),
            age_of(view.get("createdAt")),
        )
    return table


def endpoint_table(view: dict[str, Any]) -> Table:
    """`aijob endpoints get NAME`: what it serves, how, and in which state."""
    spec, status = view["spec"], view.get("status") or {}
    batching = spec.get("batching") or {}
    served = status.get("model") or {}
    rows = [
        ("name", view["name"]),
        ("namespace", view["namespace"]),
        ("description", view.get("description") or "-"),
        ("phase", styled(endpoint_phase(view), ENDPOINT_PHASE_STYLES)),
        ("reason", status.get("reason") or "-"),
        ("message", status.get("message") or "-"),
        ("model", _model_source(spec)),
        ("framework", _framework(view)),
        (
            "replicas",
            f"{status.get('readyReplicas', 0)} ready, {status.get('updatedReplicas', 0)} updated, "
            f"{spec.get('replicas', 1)} wanted ({spec.get('minReplicas', 1)}-"
            f"{spec.get('maxReplicas', '-')})",
        ),
        ("concurrency", f"{spec.get('concurrency', '-')} per replica"),
        (
            "batching",
            f"up to {batching.get('maxBatchSize', '-')} records, "
            f"{batching.get('maxWaitMilliseconds', '-')} ms wait",
        ),
        ("timeout", f"{spec.get('requestTimeoutSeconds', '-')} s"),
        ("priority", str(spec.get("priority", "normal"))),
        ("served model", served.get("uri") or "-"),
        ("checksum", served.get("checksum") or "-"),
        ("url", status.get("url") or "-"),
        ("age", age_of(view.get("createdAt"))),
    ]
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, str(value))
    return table


def _output_cells(output: Any) -> tuple[str, str]:
    if isinstance(output, dict) and "prediction" in output:
        confidence = output.get("confidence")
        shown = f"{confidence:.3f}" if isinstance(confidence, int | float) else "-"
        return str(output["prediction"]), shown
    return json.dumps(output), "-"


def _ms(value: Any) -> str:
    return f"{value:.1f} ms" if isinstance(value, int | float) else "-"


def latency_line(answer: dict[str, Any]) -> str:
    """Where the time went: total, the gateway's share, the replica's stages, the replica."""
    timings = answer.get("timings") or {}
    retries = answer.get("retries", 0)
    return (
        f"latency {_ms(timings.get('totalMs'))} (gateway {_ms(timings.get('dispatchMs'))}, "
        f"replica queue {_ms(timings.get('queueMs'))}, infer {_ms(timings.get('inferMs'))}) "
        f"on pod {answer.get('pod', '-')}, {retries} retr{'y' if retries == 1 else 'ies'}"
    )


def prediction_table(answer: dict[str, Any]) -> Table:
    """`aijob predict`: one row per record (`latency_line` says where the time went)."""
    table = Table()
    for header in ("#", "OUTPUT", "CONFIDENCE"):
        table.add_column(header)
    for index, output in enumerate(answer.get("outputs") or []):
        prediction, confidence = _output_cells(output)
        table.add_row(str(index), prediction, confidence)
    return table


@dataclass(frozen=True)
class MonitorRow:
    """One endpoint in the monitor: its view and its dispatcher's figures (None: unavailable)."""

    view: dict[str, Any]
    stats: dict[str, Any] | None


def _queue(stats: dict[str, Any]) -> str:
    by_priority = stats.get("queuedByPriority") or {}
    parts = "/".join(str(by_priority.get(p, 0)) for p in ("high", "normal", "low"))
    return f"{stats.get('queued', 0)} ({parts})"


def monitor_table(rows: list[MonitorRow], refreshed: str) -> Table:
    """`aijob endpoints monitor`: replicas, in-flight, queue, latency and errors per endpoint."""
    table = Table(
        title=f"aijob endpoints, {refreshed}",
        title_justify="left",
        caption="queue: total (high/normal/low); latency of the recent window",
        caption_justify="left",
    )
    headers = ("ENDPOINT", "PHASE", "REPLICAS", "IN-FLIGHT", "QUEUE", "P50", "P99")
    for header in (*headers, "REQUESTS", "ERRORS", "RETRIES"):
        table.add_column(header, no_wrap=header == "ENDPOINT")
    for row in rows:
        stats = row.stats
        phase = styled(endpoint_phase(row.view), ENDPOINT_PHASE_STYLES)
        if stats is None:
            table.add_row(row.view["name"], phase, _replicas(row.view), *["-"] * 7)
            continue
        latency = stats.get("latency") or {}
        failed = stats.get("failed", 0)
        table.add_row(
            row.view["name"],
            phase,
            f"{stats.get('readyPods', 0)} ready / {row.view['spec'].get('replicas', 1)}",
            str(stats.get("inFlight", 0)),
            _queue(stats),
            _ms(latency.get("p50Ms")),
            _ms(latency.get("p99Ms")),
            str(stats.get("received", 0)),
            f"[red]{failed}[/red]" if failed else "0",
            str(stats.get("retries", 0)),
        )
    return table
