"""`aijob`: submit, list, get, watch and cancel jobs, read their results, metrics and logs;
serve models (endpoints) and predict (gateway)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from aijob_cli import artifacts, endpoints
from aijob_cli.config import Overrides
from aijob_cli.curves import metrics_table, points_table
from aijob_cli.exitcodes import ExitCode
from aijob_cli.manifest import JobFlags, ManifestError, body_from_file
from aijob_cli.render import job_table, jobs_table, results_table
from aijob_cli.session import (
    JsonOption,
    exit_with,
    fail,
    gateway,
    out,
    print_json,
    set_overrides,
)
from aijob_cli.watch import watch as watch_job

app = typer.Typer(
    name="aijob",
    help=(
        "Submit, watch, cancel and fetch the results of AI jobs, serve models and predict, "
        "through the aijob gateway."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help=(
                "Send the API key over plain http:// to a host that is not this machine "
                "(anyone on the network path can read it; also AIJOB_INSECURE=1)."
            ),
        ),
    ] = False,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            help="PEM CA bundle to verify an https:// gateway with (also AIJOB_CA_FILE).",
        ),
    ] = None,
) -> None:
    """Options of every command, given before it: `aijob --ca-file ca.pem list`."""
    set_overrides(Overrides(insecure=insecure, ca_file=ca_file))


@app.command()
def submit(
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="An AIJob YAML manifest.", exists=False)
    ] = None,
    task: Annotated[str, typer.Option(help="training or inference.")] = "training",
    model_type: Annotated[str | None, typer.Option(help="e.g. random_forest, mlp, bert.")] = None,
    framework: Annotated[
        str | None, typer.Option(help="sklearn, pytorch, tensorflow, transformers.")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="A bundled data set, e.g. iris.")] = None,
    data_uri: Annotated[str | None, typer.Option(help="A CSV data set (file:// or s3://).")] = None,
    training_job: Annotated[
        str | None, typer.Option(help="Inference: the training job's model.")
    ] = None,
    model_uri: Annotated[str | None, typer.Option(help="Inference: a model URI.")] = None,
    record: Annotated[
        list[str] | None, typer.Option(help="Inference: one input record (JSON).")
    ] = None,
    input_uri: Annotated[str | None, typer.Option(help="Inference: a file of records.")] = None,
    hp: Annotated[list[str] | None, typer.Option(help="A hyperparameter KEY=VALUE.")] = None,
    gpu: Annotated[int | None, typer.Option(help="GPUs to request.")] = None,
    cpu: Annotated[str | None, typer.Option(help="CPU, e.g. 500m.")] = None,
    memory: Annotated[str | None, typer.Option(help="Memory, e.g. 1Gi.")] = None,
    priority: Annotated[str | None, typer.Option(help="high, normal or low.")] = None,
    max_retries: Annotated[int | None, typer.Option(help="Retries of a failed attempt.")] = None,
    timeout_seconds: Annotated[int | None, typer.Option(help="Wall-clock limit.")] = None,
    name: Annotated[str | None, typer.Option(help="Job name (generated when left out).")] = None,
    label: Annotated[list[str] | None, typer.Option(help="A label KEY=VALUE.")] = None,
    description: Annotated[str | None, typer.Option(help="A human description.")] = None,
    client_request_id: Annotated[
        str | None, typer.Option(help="Idempotency key: resubmitting returns the same job.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a job from an AIJob YAML file (-f) or from flags; prints its name."""
    try:
        if file is not None:
            body = body_from_file(file)
            if name:
                body["name"] = name
        else:
            body = JobFlags(
                task=task,
                model_type=model_type,
                framework=framework,
                dataset=dataset,
                data_uri=data_uri,
                training_job=training_job,
                model_uri=model_uri,
                records=record or [],
                input_uri=input_uri,
                hyperparameters=hp or [],
                gpu=gpu,
                cpu=cpu,
                memory=memory,
                priority=priority,
                max_retries=max_retries,
                timeout_seconds=timeout_seconds,
                name=name,
                labels=label or [],
                description=description,
            ).body()
    except ManifestError as error:
        code = ExitCode.CONFIG if str(error).startswith("cannot read") else ExitCode.INVALID
        fail(str(error), code)
    if client_request_id:
        body["clientRequestId"] = client_request_id
    with gateway() as client:
        job = client.submit(body)
    if as_json:
        print_json(job)
    else:
        out.print(job["name"])


@app.command("list")
def list_jobs(
    phase: Annotated[str | None, typer.Option(help="Only this phase, e.g. Running.")] = None,
    task: Annotated[str | None, typer.Option(help="training or inference.")] = None,
    framework: Annotated[str | None, typer.Option(help="Only this framework.")] = None,
    priority: Annotated[str | None, typer.Option(help="high, normal or low.")] = None,
    label: Annotated[str | None, typer.Option("--label", "-l", help="Label selector.")] = None,
    limit: Annotated[int, typer.Option(help="Jobs per page.")] = 50,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow every page.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List jobs, newest first, as a table."""
    params: dict[str, Any] = {
        "phase": phase,
        "task": task,
        "framework": framework,
        "priority": priority,
        "label": label,
        "limit": limit,
    }
    with gateway() as client:
        page = client.list(params)
        items = list(page["items"])
        while all_pages and page.get("continue"):
            page = client.list({**params, "continue": page["continue"]})
            items += page["items"]
    page = {**page, "items": items}
    if as_json:
        print_json(page)
        return
    out.print(jobs_table(page, out.width))
    if page.get("continue"):
        out.print("[dim]more jobs: use --all or a larger --limit[/dim]")


@app.command()
def get(name: str, as_json: JsonOption = False) -> None:
    """Show one job: spec, phase, progress, and why it waits or failed."""
    with gateway() as client:
        job = client.get(name)
    if as_json:
        print_json(job)
    else:
        out.print(job_table(job))


@app.command()
def watch(
    name: str,
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.1)] = 1.0,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
) -> None:
    """Follow a job with a live progress bar (epoch, loss, ETA) and its metric curves until it
    ends."""
    with gateway() as client:
        fetch: Callable[[], dict[str, Any]] = lambda: client.get(name)  # noqa: E731
        code = watch_job(fetch, name, out, interval, timeout)
    exit_with(code)


@app.command()
def cancel(name: str, as_json: JsonOption = False) -> None:
    """Cancel a job: its pods stop and the record stays, Cancelled."""
    with gateway() as client:
        job = client.cancel(name)
    if as_json:
        print_json(job)
    else:
        out.print(f"{job['name']}: cancel requested")


@app.command()
def results(name: str, as_json: JsonOption = False) -> None:
    """Show the results of a finished job (exit 6 while it still runs)."""
    with gateway() as client:
        view = client.results(name)
    if as_json:
        print_json(view)
    else:
        out.print(results_table(view))


@app.command()
def metrics(
    name: str,
    series: Annotated[
        str | None, typer.Option(help="Print every kept point of this series.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a job's metric series (loss, accuracy...): a sparkline each, or one's points."""
    with gateway() as client:
        view = client.metrics(name, [series] if series else ())
    if as_json:
        print_json(view)
    elif not view["series"]:
        out.print(f"{view['name']}: no metrics reported yet ({view['phase']})")
    elif series:
        out.print(points_table(view, series))
    else:
        out.print(metrics_table(view, out.width))


@app.command()
def logs(
    name: str,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the container ends.")
    ] = False,
    tail: Annotated[
        int | None, typer.Option(help="Only the last N lines.", min=1, max=100_000)
    ] = None,
) -> None:
    """Print the worker's log of a job's latest pod (exit 6 while it has none yet)."""
    with gateway() as client:
        for line in client.logs(name, tail=tail, follow=follow):
            out.print(line, markup=False, highlight=False, soft_wrap=True)


@app.command()
def queue(as_json: JsonOption = False) -> None:
    """Queue statistics: depth by priority and framework, running, waiting reasons."""
    with gateway() as client:
        stats = client.queue_stats()
    if as_json:
        print_json(stats)
        return
    out.print(f"total {stats['total']}  waiting {stats['waiting']}  running {stats['running']}")
    out.print(f"waiting by priority: {stats['waitingByPriority']}")
    out.print(f"waiting by framework: {stats['waitingByFramework']}")
    for reason in stats["waitingReasons"]:
        example = f" e.g. {reason['exampleMessage']}" if reason.get("exampleMessage") else ""
        out.print(f"  {reason['count']} x {reason['reason']}{example}")


@app.command()
def nodes(as_json: JsonOption = False) -> None:
    """Nodes and their GPUs: capacity, in use, free, and your jobs on each."""
    with gateway() as client:
        view = client.nodes()
    if as_json:
        print_json(view)
        return
    from rich.table import Table

    table = Table(title=f"GPUs: {view['gpuInUse']}/{view['gpuAllocatable']} in use")
    for column in ("NODE", "READY", "GPUS", "IN USE", "FREE", "PODS", "YOUR JOBS"):
        table.add_column(column)
    for node in view["nodes"]:
        table.add_row(
            node["name"],
            "yes" if node["ready"] else "no",
            str(node["gpuAllocatable"]),
            str(node["gpuInUse"]),
            str(node["gpuFree"]),
            str(node["pods"]),
            ", ".join(node["jobs"]) or "-",
        )
    out.print(table)


app.add_typer(endpoints.app, name="endpoints")
app.add_typer(artifacts.app, name="artifacts")
app.command()(endpoints.predict)


def main() -> None:
    """Entry point for `python -m aijob_cli`."""
    app()
