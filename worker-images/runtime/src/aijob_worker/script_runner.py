"""Run the user's script or module in-process (runpy), and turn how it ended into the contract.

The code runs as `__main__` with `sys.argv` = [entrypoint or module, *args] and its root
first on `sys.path`, so it imports its own modules and `aijob_worker`. How it ends:

- returns, or `sys.exit(0)`: success;
- a script or module that cannot be loaded (`SyntaxError`, `ImportError` at any depth) or
  arguments it rejects (`SystemExit(2)`, argparse's usage error): bad input, never
  retried (exit 65), with the script's own error (the last lines of its traceback or of
  what it wrote on stderr) in the message;
- any other exception or non-zero exit: a failed attempt, retried like any other
  (`ScriptFailedError`), with the same tail in the message;
- the runtime's own errors (`JobInterruptedError` from `report` after SIGTERM,
  `BadInputError` from a misused API call) pass through unchanged.
"""

from __future__ import annotations

import io
import runpy
import sys
import traceback
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from aijob_api.code import CodeSpec

from aijob_worker.errors import BadInputError, WorkerError

ARGUMENT_ERROR_EXIT = 2
"""The exit status argparse (and most command-line parsers) use for a usage error."""
TAIL_LINES = 12
MAX_TAIL_CHARS = 2000


class ScriptFailedError(WorkerError):
    """The user's code raised or exited non-zero: a failed attempt, retried."""

    exit_code = 1


class StderrTail(io.TextIOBase):
    """Writes through to the real stderr and keeps its last lines (the script's own error)."""

    def __init__(self, target: TextIO, lines: int = TAIL_LINES) -> None:
        super().__init__()
        self._target = target
        self._lines: deque[str] = deque(maxlen=lines)
        self._partial = ""

    def write(self, text: str) -> int:
        """Pass `text` on and remember its lines."""
        self._target.write(text)
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        self._lines.extend(piece for piece in pieces if piece.strip())
        return len(text)

    def flush(self) -> None:
        """Flush the real stderr."""
        self._target.flush()

    def text(self) -> str:
        """The last lines written (a trailing partial line included)."""
        lines = [*self._lines, *([self._partial] if self._partial.strip() else [])]
        return _clip("\n".join(lines))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TAIL_CHARS else "..." + text[-MAX_TAIL_CHARS:]


def traceback_tail(error: BaseException) -> str:
    """The last lines of an exception's traceback: where the user's code failed, and why."""
    lines = "".join(traceback.format_exception(error)).rstrip().splitlines()
    return _clip("\n".join(lines[-TAIL_LINES:]))


@contextmanager
def script_environment(program: str, args: list[str], root: Path) -> Iterator[StderrTail]:
    """`sys.argv`, `sys.path` and a stderr tee for the code's run, restored afterwards."""
    saved_argv, saved_path, saved_stderr = sys.argv[:], sys.path[:], sys.stderr
    tail = StderrTail(saved_stderr)
    sys.argv = [program, *args]
    sys.path.insert(0, str(root))
    sys.stderr = tail
    try:
        yield tail
    finally:
        sys.argv, sys.path, sys.stderr = saved_argv, saved_path, saved_stderr


def run_code(code: CodeSpec, root: Path, script: Path | None) -> None:
    """Run the entry point to its end; raise the contract's error when it does not succeed."""
    program = code.program
    field = "spec.code.entrypoint" if code.entrypoint else "spec.code.module"
    with script_environment(program, list(code.args), root) as tail:
        try:
            if script is not None:
                runpy.run_path(str(script), run_name="__main__")
            else:
                assert code.module is not None
                runpy.run_module(code.module, run_name="__main__", alter_sys=True)
        except SystemExit as exit_:
            _check_exit(exit_, program, tail)
        except WorkerError:
            raise
        except (SyntaxError, ImportError) as error:
            raise BadInputError(
                field, f"{program} cannot be loaded:\n{traceback_tail(error)}"
            ) from error
        except Exception as error:
            raise ScriptFailedError(f"{program} failed:\n{traceback_tail(error)}") from error


def _check_exit(exit_: SystemExit, program: str, tail: StderrTail) -> None:
    status = exit_.code
    if status is None or status == 0:
        return
    said = tail.text() if isinstance(status, int) else _clip(str(status))
    if status == ARGUMENT_ERROR_EXIT:
        raise BadInputError("spec.code.args", f"{program} rejected its arguments:\n{said}")
    raise ScriptFailedError(f"{program} exited with status {status}:\n{said}")
