"""Exit codes of `aijob`, stable so scripts can rely on them (docs/cli.md lists them)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What an `aijob` exit status means."""

    OK = 0
    """The command did what was asked (for `watch`: the job succeeded)."""
    ERROR = 1
    """An unexpected error (a bug: please report it with the output)."""
    USAGE = 2
    """Bad command-line usage (unknown option, missing argument)."""
    CONFIG = 3
    """No gateway URL or API key configured, or an unreadable config or job file."""
    AUTH = 4
    """The gateway refused the API key (401) or the namespace is another tenant's (403)."""
    NOT_FOUND = 5
    """No such job or endpoint (404)."""
    CONFLICT = 6
    """Conflict (409): the client request id was used for another request, the job is not
    finished (results), it already finished (cancel), it has no log yet (logs), or an
    endpoint of that name holds another spec (endpoints create)."""
    INVALID = 7
    """The job, endpoint, a record or a parameter is invalid (400, 413, 422, or refused
    locally before sending)."""
    RATE_LIMITED = 8
    """Too many requests, or the endpoint's queue is full (429); retry after the time printed."""
    UNAVAILABLE = 9
    """The gateway or the Kubernetes API server cannot be reached or failed (5xx)."""
    JOB_FAILED = 10
    """`watch`: the job ended Failed."""
    JOB_CANCELLED = 11
    """`watch`: the job ended Cancelled."""
    TIMEOUT = 12
    """`watch --timeout`: the job had not finished in time."""
    CHECKSUM = 13
    """`artifacts download`: a file's SHA-256 differs from the one the job's status recorded
    (the file is not kept)."""


def for_status(status: int) -> ExitCode:
    """The exit code of an HTTP error status."""
    if status in (401, 403):
        return ExitCode.AUTH
    if status == 404:
        return ExitCode.NOT_FOUND
    if status == 409:
        return ExitCode.CONFLICT
    if status in (400, 413, 422):
        return ExitCode.INVALID
    if status == 429:
        return ExitCode.RATE_LIMITED
    if status >= 500:
        return ExitCode.UNAVAILABLE
    return ExitCode.ERROR
