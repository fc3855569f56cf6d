"""The `aijob-worker` command (also `python -m aijob_worker`)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence

from aijob_worker import __version__
from aijob_worker.job import run_job
from aijob_worker.logs import configure_logging
from aijob_worker.runners import RunnerRegistry
from aijob_worker.serve.config import add_config_arguments
from aijob_worker.signals import StopFlag, install_sigterm_handler


def version_text(registry: RunnerRegistry) -> str:
    """The runtime's version, Python's, and the framework versions of the installed runners."""
    lines = [f"aijob-worker {__version__}", f"python {platform.python_version()}"]
    lines += [f"{package} {version}" for package, version in registry.framework_versions().items()]
    lines.append(f"model types: {', '.join(registry.model_types) or 'none'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line: run the job the environment describes, or serve a model."""
    parser = argparse.ArgumentParser(
        prog="aijob-worker",
        description=(
            "Run the AIJob described by the environment (AIJOB_SPEC, AIJOB_NAME, ...): "
            "train or infer, report progress and results into its status."
        ),
    )
    parser.add_argument(
        "--version", action="store_true", help="print the runtime and framework versions"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve_parser = commands.add_parser(
        "serve",
        help="serve a saved model over HTTP until SIGTERM (see docs/serving.md)",
        description=(
            "Load a saved model once and answer the Open Inference Protocol (KServe V2) and "
            "POST /v1/models/NAME/predict, batching concurrent requests. Settings come from "
            "--config FILE (YAML or JSON, camelCase names) and the flags, which win."
        ),
    )
    add_config_arguments(serve_parser)
    arguments = parser.parse_args(argv)
    if arguments.version:
        print(version_text(RunnerRegistry.from_entry_points()))
        return 0
    configure_logging()
    if arguments.command == "serve":
        from aijob_worker.serve.server import serve_command  # needs the `serve` extra

        return serve_command(arguments, os.environ)
    stop = StopFlag()
    install_sigterm_handler(stop)
    code = run_job(os.environ, stop=stop)
    sys.stdout.flush()
    return code
