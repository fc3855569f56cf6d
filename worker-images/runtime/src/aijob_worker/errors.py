"""The runtime's own errors, each tied to the exit code the operator acts on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aijob_api.contract import EXIT_BAD_INPUT, EXIT_INTERRUPTED


class WorkerError(Exception):
    """Base of the errors that end a worker run with a specific exit code."""

    exit_code: int = 1


class BadInputError(WorkerError):
    """The job cannot succeed as specified (never retried): names the field at fault."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class JobInterruptedError(WorkerError):
    """SIGTERM arrived; a checkpoint (when there was something to save) is in the status."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, checkpoint_uri: str | None) -> None:
        where = f"checkpoint saved at {checkpoint_uri}" if checkpoint_uri else "nothing to save"
        super().__init__(f"stopped by SIGTERM; {where}")
        self.checkpoint_uri = checkpoint_uri


def bad_input_from_validation(prefix: str, errors: Iterable[Mapping[str, Any]]) -> BadInputError:
    """Turn pydantic validation errors into one BadInputError naming the first bad field.

    `prefix` is where the validated object lives in the AIJob, e.g.
    `spec.model.hyperparameters`; the other errors are appended to the message.
    """
    described = [
        (_join(prefix, error.get("loc", ())), str(error.get("msg", ""))) for error in errors
    ]
    if not described:
        return BadInputError(prefix, "is invalid")
    field, problem = described[0]
    if len(described) > 1:
        others = "; ".join(f"{name}: {message}" for name, message in described[1:])
        problem = f"{problem} (also {others})"
    return BadInputError(field, problem)


def _join(prefix: str, location: Iterable[Any]) -> str:
    path = prefix
    for part in location:
        path = (
            f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else str(part)
        )
    return path
