"""`aijob watch`: a live progress bar (epoch, loss, ETA) until the job ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

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


def watch(
    fetch: Callable[[], dict[str, Any]],
    name: str,
    console: Console,
    interval: float,
    timeout: float | None,
) -> ExitCode:
    """Poll the job and redraw the bar until it finishes; the exit code follows the outcome."""
    deadline = None if timeout is None else time.monotonic() + timeout
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
    with Progress(*columns, console=console, refresh_per_second=8) as progress:
        job = fetch()
        fields = describe(job)
        bar = progress.add_task(name, total=100, completed=fields.pop("percent"), **fields)
        while True:
            fields = describe(job)
            phase = fields["phase"]
            if phase == "Succeeded":
                fields["percent"] = 100.0
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
