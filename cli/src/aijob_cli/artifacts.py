"""`aijob artifacts list|download`: a job's files in its tenant's store, through the gateway.

A download is streamed to `<file>.part` while its SHA-256 is computed, then checked against
the checksum the job's status recorded (the gateway's listing and X-Checksum-Sha256): equal,
the file takes its name; different, the part is removed and the command exits 13. A path
that could leave the output directory (`..`, absolute) is refused before anything is sent,
by the rule the gateway applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from aijob_api.storage import artifact_path_problem
from rich.table import Table

from aijob_cli.client import Download, GatewayClient
from aijob_cli.exitcodes import ExitCode
from aijob_cli.session import JsonOption, err, exit_with, fail, gateway, out, print_json

app = typer.Typer(help="A job's artifacts: list them, download them.", no_args_is_help=True)


@dataclass(frozen=True)
class Saved:
    """A file written: where, its size, its SHA-256, and what the job recorded."""

    path: Path
    size: int
    sha256: str
    recorded: str | None

    @property
    def verified(self) -> bool | None:
        """True or False against the recorded checksum; None when none was recorded."""
        return None if self.recorded is None else self.recorded.lower() == self.sha256


def destination(directory: Path, path: str) -> Path:
    """Where artifact `path` goes below `directory`; ValueError when it could leave it."""
    problem = artifact_path_problem(path)
    if problem is not None:
        raise ValueError(f"path: {path!r}: {problem}")
    return directory.joinpath(*path.split("/"))


def save(chunks: Iterable[bytes], target: Path, recorded: str | None) -> Saved:
    """Stream `chunks` to `target`, hashing as it goes; the file is kept only when its
    SHA-256 equals `recorded` (or nothing was recorded)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f"{target.name}.part")
    digest = hashlib.sha256()
    size = 0
    try:
        with part.open("wb") as file:
            for chunk in chunks:
                digest.update(chunk)
                file.write(chunk)
                size += len(chunk)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    saved = Saved(path=target, size=size, sha256=digest.hexdigest(), recorded=recorded)
    if saved.verified is False:
        part.unlink()
    else:
        part.replace(target)
    return saved


def _fetch(
    client: GatewayClient, name: str, path: str, directory: Path, recorded: str | None
) -> Saved:
    target = destination(directory, path)
    download: Download
    with client.artifact(name, path) as download:
        return save(download.chunks, target, recorded or download.sha256)


def _describe(saved: Saved, path: str) -> str:
    if saved.verified is None:
        check = "no checksum recorded"
    elif saved.verified:
        check = "sha256 verified"
    else:
        check = f"sha256 MISMATCH: got {saved.sha256}, the job recorded {saved.recorded}"
    return f"{path}  {saved.size} B  {check}  -> {saved.path}"


@app.command("list")
def list_artifacts(
    name: Annotated[str, typer.Argument(help="The job.")], as_json: JsonOption = False
) -> None:
    """List a job's artifacts: path, size, last modified, recorded SHA-256."""
    with gateway() as client:
        listing = client.artifacts(name)
    if as_json:
        print_json(listing)
        return
    table = Table(title=f"{listing['name']}: {listing['uri']}", title_justify="left")
    for column in ("PATH", "SIZE", "MODIFIED", "SHA256"):
        table.add_column(column, overflow="fold")
    for item in listing["items"]:
        table.add_row(
            item["path"],
            str(item["sizeBytes"]),
            item.get("lastModified") or "-",
            item.get("sha256") or "-",
        )
    out.print(table)
    if listing.get("truncated"):
        err.print("more artifacts exist than the gateway lists at once")


@app.command()
def download(
    name: Annotated[str, typer.Argument(help="The job.")],
    path: Annotated[
        str | None,
        typer.Argument(help="One artifact (as `list` shows it); every artifact when left out."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory to write into (created).")
    ] = Path(),
) -> None:
    """Download artifacts, streamed to disk, each checked against its recorded SHA-256."""
    try:
        if path is not None:
            destination(output, path)
    except ValueError as error:
        fail(str(error), ExitCode.INVALID)
    mismatched = 0
    with gateway() as client:
        items: list[dict[str, Any]] = (
            [{"path": path}] if path is not None else client.artifacts(name)["items"]
        )
        for item in items:
            try:
                saved = _fetch(client, name, item["path"], output, item.get("sha256"))
            except ValueError as error:  # a listed path this machine will not write
                fail(str(error), ExitCode.INVALID)
            if saved.verified is False:
                mismatched += 1
                err.print(f"[bold red]error[/bold red]: {_describe(saved, item['path'])}")
            else:
                out.print(_describe(saved, item["path"]), highlight=False)
    if mismatched:
        exit_with(ExitCode.CHECKSUM)
