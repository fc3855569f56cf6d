"""`aijob endpoints create|list|get|delete|monitor` and `aijob predict`: models served warm."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from aijob_cli.exitcodes import ExitCode
from aijob_cli.manifest import ManifestError, endpoint_body_from_file, records_from
from aijob_cli.monitor import monitor as run_monitor
from aijob_cli.monitor import snapshot
from aijob_cli.render_endpoints import (
    endpoint_table,
    endpoints_table,
    latency_line,
    prediction_table,
)
from aijob_cli.session import JsonOption, fail, gateway, out, print_json

app = typer.Typer(
    help="Serve models warm (AIEndpoints): create, list, get, delete, monitor.",
    no_args_is_help=True,
)

_HTTP_SLACK_SECONDS = 5.0
"""How much longer than the request's own deadline `predict` waits for the gateway."""


def _manifest_error(error: ManifestError) -> NoReturn:
    code = ExitCode.CONFIG if str(error).startswith("cannot read") else ExitCode.INVALID
    fail(str(error), code)


@app.command()
def create(
    file: Annotated[Path, typer.Option("--file", "-f", help="An AIEndpoint YAML manifest.")],
    as_json: JsonOption = False,
) -> None:
    """Create an endpoint from an AIEndpoint manifest; prints its name."""
    try:
        body = endpoint_body_from_file(file)
    except ManifestError as error:
        _manifest_error(error)
    with gateway() as client:
        view = client.create_endpoint(body)
    if as_json:
        print_json(view)
    else:
        out.print(view["name"])


@app.command("list")
def list_endpoints(as_json: JsonOption = False) -> None:
    """List endpoints, newest first: model, framework, ready replicas, phase."""
    with gateway() as client:
        page = client.list_endpoints()
    if as_json:
        print_json(page)
    else:
        out.print(endpoints_table(page))


@app.command()
def get(name: str, as_json: JsonOption = False) -> None:
    """Show one endpoint: its model, replicas, settings, phase and why."""
    with gateway() as client:
        view = client.get_endpoint(name)
    if as_json:
        print_json(view)
    else:
        out.print(endpoint_table(view))


@app.command()
def delete(name: str, as_json: JsonOption = False) -> None:
    """Delete an endpoint (its replicas stop)."""
    with gateway() as client:
        view = client.delete_endpoint(name)
    if as_json:
        print_json(view)
    else:
        out.print(f"{view['name']}: deleted")


@app.command("monitor")
def monitor_endpoints(
    interval: Annotated[float, typer.Option(help="Seconds between refreshes.", min=0.2)] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Print one table and exit.")] = False,
) -> None:
    """Live view of every endpoint: replicas, in-flight, queue, p50/p99, errors (Ctrl-C ends)."""
    with gateway() as client:
        run_monitor(lambda: snapshot(client), out, interval=interval, once=once)


def predict(
    endpoint: Annotated[str, typer.Argument(help="The endpoint's name.")],
    record: Annotated[
        list[str] | None,
        typer.Option("--record", "-r", help="One record as JSON, e.g. '[5.1, 3.5, 1.4, 0.2]'."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help='A JSON file: a list of records, or {"records": [...]}.'),
    ] = None,
    priority: Annotated[str | None, typer.Option(help="high, normal or low.")] = None,
    timeout_seconds: Annotated[
        float | None, typer.Option(help="Longest the request may take (the endpoint caps it).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Predict records on an endpoint's warm replicas; prints the outputs and the latency."""
    try:
        records = records_from(record or [], file)
    except ManifestError as error:
        _manifest_error(error)
    body: dict[str, object] = {"records": records}
    if priority is not None:
        body["priority"] = priority
    if timeout_seconds is not None:
        body["timeoutSeconds"] = timeout_seconds
    waits = None if timeout_seconds is None else timeout_seconds + _HTTP_SLACK_SECONDS
    with gateway() as client:
        answer = client.predict(endpoint, body, timeout=waits)
    if as_json:
        print_json(answer)
    else:
        out.print(prediction_table(answer))
        out.print(latency_line(answer))
