"""The container's termination message: why the worker failed, for the operator.

Kubernetes copies the file at the container's terminationMessagePath (by default
`/dev/termination-log`) into the pod status, where the operator reads it into
the AIJob's status message. The file exists only inside a container, so outside
one the message goes to stderr alone (and to `AIJOB_TERMINATION_MESSAGE_PATH`
when it is set).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from aijob_worker.context import ENV_TERMINATION_MESSAGE_PATH

KUBERNETES_TERMINATION_MESSAGE_PATH = Path("/dev/termination-log")
MAX_MESSAGE_BYTES = 4096
"""Kubernetes keeps at most 4096 bytes of a termination message."""


def termination_message_path(env: Mapping[str, str]) -> Path | None:
    """Where to write the message: the override, else the Kubernetes file when it exists."""
    override = env.get(ENV_TERMINATION_MESSAGE_PATH)
    if override:
        return Path(override)
    if KUBERNETES_TERMINATION_MESSAGE_PATH.is_file():
        return KUBERNETES_TERMINATION_MESSAGE_PATH
    return None


def write_termination_message(message: str, env: Mapping[str, str]) -> None:
    """Write the message to stderr and, when there is one, the termination message file."""
    print(f"aijob-worker: {message}", file=sys.stderr, flush=True)
    path = termination_message_path(env)
    if path is None:
        return
    encoded = message.encode()[:MAX_MESSAGE_BYTES]
    try:
        path.write_bytes(encoded)
    except OSError as error:
        print(f"aijob-worker: cannot write {path}: {error}", file=sys.stderr, flush=True)
