"""`aijob endpoints monitor`: every endpoint's replicas, load, latency and errors, live.

Seed 004's CLI monitor, on the gateway's figures: the endpoints of the key's
namespace and each one's dispatch stats, redrawn in place (Rich `Live`) every
`interval` seconds until Ctrl-C; `once` prints one table and returns (for scripts
and tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from rich.console import Console
from rich.live import Live
from rich.table import Table

from aijob_cli.client import GatewayClient, GatewayProblemError
from aijob_cli.render_endpoints import MonitorRow, monitor_table


def snapshot(client: GatewayClient) -> list[MonitorRow]:
    """The endpoints and their figures now (an endpoint deleted meanwhile has none)."""
    rows = []
    for view in client.list_endpoints()["items"]:
        try:
            stats = client.endpoint_stats(view["name"])
        except GatewayProblemError as problem:
            if problem.status != 404:
                raise
            stats = None
        rows.append(MonitorRow(view=view, stats=stats))
    return rows


def monitor(
    fetch: Callable[[], list[MonitorRow]],
    console: Console,
    *,
    interval: float,
    once: bool,
    clock: Callable[[], datetime] = datetime.now,
) -> None:
    """Draw the table, then redraw it in place every `interval` seconds (until Ctrl-C)."""

    def table() -> Table:
        return monitor_table(fetch(), clock().strftime("%H:%M:%S"))

    if once:
        console.print(table())
        return
    try:
        with Live(table(), console=console, refresh_per_second=4, transient=False) as live:
            while True:
                time.sleep(interval)
                live.update(table())
    except KeyboardInterrupt:
        return
