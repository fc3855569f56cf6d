"""How the CLI shows jobs, lists, results and problems (Rich)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from aijob_cli.client import GatewayProblemError

PHASE_STYLES = {
    "Pending": "yellow",
    "Queued": "yellow",
    "Running": "cyan",
    "Retrying": "magenta",
    "Succeeded": "green",
    "Failed": "red",
    "Cancelled": "dim",
}


def phase_of(job: dict[str, Any]) -> str:
    """The job's phase (Pending before the operator has written one)."""
    return str((job.get("status") or {}).get("phase") or "Pending")


def _age(created: str | None) -> str:
    if not created:
        return "-"
    moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _styled_phase(phase: str) -> str:
    style = PHASE_STYLES.get(phase, "white")
    return f"[{style}]{phase}[/{style}]"


def jobs_table(page: dict[str, Any]) -> Table:
    """The `aijob list` table."""
    table = Table(title=f"{page.get('total', 0)} jobs", title_justify="left")
    for column in (
        "NAME",
        "TASK",
        "MODEL",
        "FRAMEWORK",
        "PHASE",
        "PROGRESS",
        "GPUS",
        "PRIORITY",
        "AGE",
    ):
        table.add_column(column)
    for job in page.get("items", []):
        spec, status = job["spec"], job.get("status") or {}
        progress = (status.get("progress") or {}).get("percent")
        table.add_row(
            job["name"],
            spec["task"],
            spec["model"]["type"],
            status.get("framework") or spec.get("framework") or "-",
            _styled_phase(phase_of(job)),
            f"{progress}%" if progress is not None else "-",
            str((spec.get("resources") or {}).get("gpu", 0)),
            spec.get("priority", "normal"),
            _age(job.get("createdAt")),
        )
    return table


def job_table(job: dict[str, Any]) -> Table:
    """The `aijob get` view: one job's important fields."""
    spec, status = job["spec"], job.get("status") or {}
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    progress = status.get("progress") or {}
    rows = [
        ("Name", job["name"]),
        ("Namespace", job["namespace"]),
        ("Task", spec["task"]),
        ("Model", spec["model"]["type"]),
        ("Framework", status.get("framework") or spec.get("framework") or "(routed)"),
        ("Priority", spec.get("priority", "normal")),
        ("GPUs", str((spec.get("resources") or {}).get("gpu", 0))),
        ("Phase", _styled_phase(phase_of(job))),
        ("Reason", status.get("reason") or "-"),
        ("Message", status.get("message") or "-"),
        ("Attempts", str(status.get("attempts", 0))),
        ("Progress", f"{progress['percent']}%" if progress.get("percent") is not None else "-"),
        (
            "Metrics",
            ", ".join(f"{k}={v:.4g}" for k, v in (progress.get("metrics") or {}).items()) or "-",
        ),
        ("Created", job.get("createdAt") or "-"),
    ]
    if job.get("description"):
        rows.insert(2, ("Description", job["description"]))
    for key, value in rows:
        table.add_row(key, value)
    return table


def results_table(view: dict[str, Any]) -> Table:
    """The `aijob results` view."""
    results = view.get("results") or {}
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Job", view["name"])
    table.add_row("Phase", _styled_phase(str(view.get("phase") or "-")))
    if view.get("message"):
        table.add_row("Message", view["message"])
    for name, value in (results.get("metrics") or {}).items():
        table.add_row(name, f"{value:.6g}")
    for key in ("modelUri", "outputUri", "device"):
        if results.get(key):
            table.add_row(key, str(results[key]))
    for artifact in results.get("artifacts") or []:
        table.add_row("artifact", f"{artifact['name']}: {artifact['uri']}")
    if results.get("outputs") is not None:
        table.add_row("outputs", str(results["outputs"])[:2000])
    return table


def print_problem(console: Console, problem: GatewayProblemError) -> None:
    """An error of the gateway, with what to do about it."""
    console.print(
        f"[bold red]error[/bold red] ({problem.status} {problem.title}): {problem.detail}"
    )
    for error in problem.errors[1:]:
        console.print(f"  - {error.get('field')}: {error.get('message')}")
    hints = {
        401: "check AIJOB_API_KEY (or api_key in the config file)",
        403: "this key belongs to another namespace",
        429: f"retry after {problem.retry_after or 'a few'} seconds",
        503: "the gateway or the Kubernetes API server is not available; retry later",
    }
    if problem.status in hints:
        console.print(f"  hint: {hints[problem.status]}")
    if problem.request_id:
        console.print(f"  request id: {problem.request_id}", style="dim")
