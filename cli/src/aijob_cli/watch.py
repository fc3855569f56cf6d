"""`aijob watch`: a live progress bar (epoch, loss, ETA) and the metric curves until the job ends.

On a terminal the bar and one sparkline per metric (`aijob_cli.curves`, from the job's
`status.metricHistory`) are redrawn in place at every poll. Elsewhere (a pipe, a CI
log) it prints plain text: a line whenever what the bar would show changes, and the
curves once, when the job ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.text import Text

from aijob_cli.curves import curve_lines, curves_from_status
from aijob_cli.exitcodes import ExitCode
from aijob_cli.render import phase_of

FINAL_CODES = {
    "Succeeded": ExitCode.OK,
    "Failed": ExitCode.JOB_FAILED,
    "Cancelled": ExitCode.JOB_CANCELLED,
}


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def describe(job: dict[str, Any]) -> dict[str, Any]:
    """The fields the bar shows, from a job view."""
    status = job.get("status") or {}
    progress = status.get("progress") or {}
    metrics = progress.get("metrics") or {}
    epoch, total = progress.get("epoch"), progress.get("totalEpochs")
    loss = metrics.get("loss")
    return {
        "phase": phase_of(job),
        "percent": float(progress.get("percent") or 0),
        "epoch": f"{epoch if epoch is not None else '-'}/{total if total is not None else '-'}",
        "loss": f"{loss:.4f}" if isinstance(loss, int | float) else "-",
        "eta": _eta(progress.get("etaSeconds")),
        "stage": progress.get("stage") or status.get("reason") or "",
    }


def status_line(name: str, fields: dict[str, Any]) -> str:
    """What the bar shows, as one plain line."""
    return (
        f"{name} {fields['phase']} {fields['percent']:.0f}% epoch {fields['epoch']} "
        f"loss {fields['loss']} ETA {fields['eta']} {fields['stage']}"
    ).rstrip()


def job_curves(job: dict[str, Any], width: int) -> list[str]:
    """The job's metric curves, a sparkline line each."""
    return curve_lines(curves_from_status(job.get("status") or {}), width)


class CurvesProgress(Progress):
    """The progress bar with the metric curves drawn below it."""

    curves: tuple[str, ...] = ()

    def get_renderables(self) -> Iterable[RenderableType]:
        """The bar's table, then one line per curve."""
        yield self.make_tasks_table(self.tasks)
        if self.curves:
            yield Text("\n".join(self.curves), no_wrap=True, overflow="ellipsis")


def watch(
    fetch: Callable[[], dict[str, Any]],
    name: str,
    console: Console,
    interval: float,
    timeout: float | None,
) -> ExitCode:
    """Poll the job and redraw the bar and curves until it finishes; the exit code follows
    the outcome."""
    deadline = None if timeout is None else time.monotonic() + timeout
    if not console.is_terminal:
        return _watch_plain(fetch, name, console, interval, deadline)
    columns = (
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[phase]:<9}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("epoch {task.fields[epoch]}"),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("ETA {task.fields[eta]}"),
        TextColumn("[dim]{task.fields[stage]}"),
    )
    with CurvesProgress(*columns, console=console, refresh_per_second=8) as progress:
        job = fetch()
        fields = describe(job)
        bar = progress.add_task(name, total=100, completed=fields.pop("percent"), **fields)
        while True:
            fields = describe(job)
            phase = fields["phase"]
            if phase == "Succeeded":
                fields["percent"] = 100.0
            progress.curves = tuple(job_curves(job, console.width))
            progress.update(bar, completed=fields.pop("percent"), **fields)
            if phase in FINAL_CODES:
                break
            if deadline is not None and time.monotonic() >= deadline:
                return ExitCode.TIMEOUT
            time.sleep(interval)
            job = fetch()
    status = job.get("status") or {}
    message = status.get("message")
    console.print(f"{name}: {phase}" + (f" ({message})" if message else ""))
    return FINAL_CODES[phase]


def _watch_plain(
    fetch: Callable[[], dict[str, Any]],
    name: str,
    console: Console,
    interval: float,
    deadline: float | None,
) -> ExitCode:
    """No terminal: a line per change of the bar, the curves at the end."""
    shown = None
    while True:
        job = fetch()
        fields = describe(job)
        phase = fields["phase"]
        if phase == "Succeeded":
            fields["percent"] = 100.0
        line = status_line(name, fields)
        if line != shown:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
            shown = line
        if phase in FINAL_CODES:
            break
        if deadline is not None and time.monotonic() >= deadline:
            return ExitCode.TIMEOUT
        time.sleep(interval)
    for curve in job_curves(job, console.width):
        console.print(curve, markup=False, highlight=False, soft_wrap=True)
    status = job.get("status") or {}
    message = status.get("message")
    console.print(f"{name}: {phase}" + (f" ({message})" if message else ""), markup=False)
    return FINAL_CODES[phase]
