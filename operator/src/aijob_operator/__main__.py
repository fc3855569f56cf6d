"""`python -m aijob_operator`: run the operator with kopf, namespaced or cluster-wide.

    python -m aijob_operator --namespace team-a --namespace team-b
    python -m aijob_operator --all-namespaces --liveness http://0.0.0.0:8080/healthz

Namespaces come from `--namespace` (repeatable) or `AIJOB_OPERATOR_NAMESPACES`
(comma-separated); with neither, or with `--all-namespaces`, the operator watches
every namespace. Everything else is in `OperatorConfig` (environment variables
`AIJOB_OPERATOR_*`; `--catalog` and `--metrics-port` override two of them).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path

import kopf
from pydantic import ValidationError

from aijob_operator.config import OperatorConfig

_LOG_FORMATS = {
    "json": kopf.LogFormat.JSON,
    "plain": kopf.LogFormat.PLAIN,
    "full": kopf.LogFormat.FULL,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m aijob_operator", description=__doc__)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "-n", "--namespace", action="append", default=[], help="watch this namespace (repeatable)"
    )
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="watch every namespace (default)"
    )
    parser.add_argument("--liveness", help="liveness endpoint, e.g. http://0.0.0.0:8080/healthz")
    parser.add_argument("--catalog", type=Path, help="runtime catalog YAML file")
    parser.add_argument("--metrics-port", type=int, help="Prometheus port; 0 turns it off")
    return parser.parse_args(argv)


def namespaces_of(args: argparse.Namespace, environ: dict[str, str]) -> list[str]:
    """The namespaces to watch; empty means all of them."""
    if args.all_namespaces:
        return []
    if args.namespace:
        return list(args.namespace)
    listed = environ.get("AIJOB_OPERATOR_NAMESPACES", "")
    return [name.strip() for name in listed.split(",") if name.strip()]


def main(argv: list[str] | None = None) -> int:
    """Configure logging and run kopf until it is stopped."""
    args = parse_args(argv)
    namespaces = namespaces_of(args, dict(os.environ))
    overrides: dict[str, object] = {"namespaces": ",".join(namespaces)}
    if args.catalog is not None:
        overrides["catalog_path"] = args.catalog
    if args.metrics_port is not None:
        overrides["metrics_port"] = args.metrics_port
    try:
        config = OperatorConfig().model_copy(update=overrides)
    except ValidationError as error:
        print(f"aijob-operator: invalid settings: {error}", file=sys.stderr)
        return 2
    if config.own_namespace is not None and config.own_namespace in namespaces:
        print(
            f"aijob-operator: invalid settings: {config.own_namespace} is the operator's own "
            "namespace (AIJOB_OPERATOR_OWN_NAMESPACE), where nothing is reconciled: do not "
            "watch it",
            file=sys.stderr,
        )
        return 2
    # What is loaded now (modules, classes, the models' validators) lives as long as the
    # process: out of the collector's generations, later full collections skip it.
    gc.freeze()
    kopf.configure(log_format=_LOG_FORMATS[config.log_format])
    logging.getLogger().setLevel(config.log_level)
    if config.log_level != "DEBUG":
        # One line per HTTP request and per handler call is noise at 10 jobs a second;
        # the operator logs every status transition itself.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)

    import aijob_operator  # noqa: F401 - registers the handlers

    kopf.run(
        standalone=True,
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=args.liveness,
        memo=kopf.Memo(config=config),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
