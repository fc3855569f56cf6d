"""What every command shares: the consoles, the gateway client session, exits and JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from aijob_cli.client import GatewayClient, GatewayProblemError
from aijob_cli.config import ConfigError, Overrides, load_config
from aijob_cli.exitcodes import ExitCode, for_status
from aijob_cli.render import print_problem

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the gateway's JSON.")]

_overrides = Overrides()
"""The global options of this invocation (`aijob --insecure --ca-file F ...`)."""


def set_overrides(overrides: Overrides) -> None:
    """Remember the global options for the command that runs next."""
    global _overrides
    _overrides = overrides


def exit_with(code: ExitCode) -> NoReturn:
    """End the command with `code`."""
    raise typer.Exit(int(code))


def fail(message: str, code: ExitCode) -> NoReturn:
    """Print `error: message` on stderr and end the command with `code`."""
    err.print(f"[bold red]error[/bold red]: {message}")
    exit_with(code)


@contextmanager
def gateway() -> Iterator[GatewayClient]:
    """A client of the configured gateway; errors become messages and exit codes."""
    try:
        client = GatewayClient(load_config(overrides=_overrides))
    except ConfigError as error:
        fail(str(error), ExitCode.CONFIG)
    try:
        yield client
    except GatewayProblemError as problem:
        print_problem(err, problem)
        exit_with(for_status(problem.status))
    finally:
        client.close()


def print_json(document: Any) -> None:
    """Print a JSON document (highlighted on a terminal)."""
    out.print_json(json.dumps(document))
