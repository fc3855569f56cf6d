"""How the CLI shows jobs, lists, results and problems (Rich)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
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


def age_of(created: str | None) -> str:
    """How long ago a creation timestamp was, shortly (5m, 2h, 3d)."""
    if not created:
        return "-"
    moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def styled(value: str, styles: dict[str, str]) -> str:
    """`value` in the style `styles` gives it (white when none)."""
    style = styles.get(value, "white")
    return f"[{style}]{value}[/{style}]"


def _styled_phase(phase: str) -> str:
    return styled(phase, PHASE_STYLES)


@dataclass(frozen=True)
class _ListColumn:
    """One column of `aijob list`: its header and how a job fills it."""

    header: str
    cell: Callable[[dict[str, Any]], str]


def _progress(job: dict[str, Any]) -> str:
    percent = ((job.get("status") or {}).get("progress") or {}).get("percent")
    return f"{percent}%" if percent is not None else "-"


def _framework(job: dict[str, Any]) -> str:
    return str((job.get("status") or {}).get("framework") or job["spec"].get("framework") or "-")


_NAME_HEADER = "NAME"
_UNBOUNDED_WIDTH = 10_000
"""Width of the console a table is measured on: wide enough for its natural width."""
_LIST_COLUMNS = (
    _ListColumn(_NAME_HEADER, lambda job: str(job["name"])),
    _ListColumn("TASK", lambda job: str(job["spec"]["task"])),
    _ListColumn("MODEL", lambda job: str(job["spec"]["model"]["type"])),
    _ListColumn("FRAMEWORK", _framework),
    _ListColumn("PHASE", lambda job: _styled_phase(phase_of(job))),
    _ListColumn("PROGRESS", _progress),
    _ListColumn("GPUS", lambda job: str((job["spec"].get("resources") or {}).get("gpu", 0))),
    _ListColumn("PRIORITY", lambda job: str(job["spec"].get("priority", "normal"))),
    _ListColumn("AGE", lambda job: age_of(job.get("createdAt"))),
)
DROPPED_FIRST = ("FRAMEWORK", "PRIORITY", "GPUS", "TASK", "MODEL", "AGE", "PROGRESS")
"""The columns `aijob list` leaves out, in this order, until the table fits the terminal;
NAME and PHASE always stay, and a name is never cut (folded only when it alone is wider)."""


def _list_table(page: dict[str, Any], headers: list[str]) -> Table:
    """The columns named by `headers`; only NAME may wrap (folded, never cut short)."""
    table = Table(title=f"{page.get('total', 0)} jobs", title_justify="left")
    columns = [column for column in _LIST_COLUMNS if column.header in headers]
    for column in columns:
        if column.header == _NAME_HEADER:
            table.add_column(column.header, overflow="fold")
        else:
            table.add_column(column.header, no_wrap=True)
    for job in page.get("items", []):
        table.add_row(*(column.cell(job) for column in columns))
    return table


def jobs_table(page: dict[str, Any], width: int) -> Table:
    """The `aijob list` table for a terminal `width` columns wide.

    Whole columns are left out (DROPPED_FIRST) until the table's natural width fits, so
    nothing is shortened; the names, the one column a person needs whole, are never cut
    (only when a name alone is too wide is it folded over lines); the caption names what
    was left out.
    """
    headers = [column.header for column in _LIST_COLUMNS]
    measuring = Console(width=_UNBOUNDED_WIDTH, file=io.StringIO())
    hidden: list[str] = []
    table = _list_table(page, headers)
    for header in DROPPED_FIRST:
        if measuring.measure(table).maximum <= width:
            break
        headers.remove(header)
        hidden.append(header)
        table = _list_table(page, headers)
    if hidden:
        table.caption = f"not shown at this width: {', '.join(hidden)} (--json shows every field)"
        table.caption_justify = "left"
    return table


def job_table(job: dict[str, Any]) -> Table:
    """The `aijob get` view: one job's important fields."""
    spec, status = job["spec"], job.get("status") or {}
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
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
    table.add_column(overflow="fold")
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
