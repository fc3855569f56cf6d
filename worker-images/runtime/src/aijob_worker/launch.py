"""The launcher of a PyTorch pod with more than one process, or one of several pods.

`run_group` runs torchrun (`torch.distributed.run`, static rendezvous) in this process:
it starts `python -m aijob_worker` once per process of the pod, with torchrun's RANK,
LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, and waits for them. Each of those
runs the job as its rank (`aijob_worker.job`): rank 0 writes the progress, checkpoints,
model and results as a single process does, every rank its own `status.ranks` entry.

The exit code contract holds for the pod: 0 when every process succeeded, else the code
of the process that failed first (65 for bad input, never retried), its own failure
message as the pod's termination message, prefixed with its rank. A process ended by a
signal counts as 128 + the signal; one stopped on the launcher's SIGTERM as 143.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aijob_api.contract import EXIT_BAD_INPUT, EXIT_INTERRUPTED

from aijob_worker.context import ENV_TERMINATION_MESSAGE_PATH
from aijob_worker.distributed import ENV_RANK_DIR, GroupSetup, group_environment, torchrun_arguments
from aijob_worker.termination import write_termination_message

logger = logging.getLogger(__name__)

EXIT_FAILED = 1
INTERRUPTED_CODES = frozenset({EXIT_INTERRUPTED, -15})
"""Exit codes of a process stopped on SIGTERM (by its own handler, or by the signal)."""


def rank_message_path(rank_dir: str, rank: int) -> Path:
    """Where the process of global rank `rank` writes its failure message."""
    return Path(rank_dir, f"rank-{rank}")


def rank_environment(env: Mapping[str, str]) -> Mapping[str, str]:
    """In a process torchrun started: its failure message goes to its rank's file."""
    rank_dir, rank = env.get(ENV_RANK_DIR), env.get("RANK")
    if not rank_dir or rank is None or not rank.isdigit():
        return env
    return {**env, ENV_TERMINATION_MESSAGE_PATH: str(rank_message_path(rank_dir, int(rank)))}


def exit_status(exitcode: int) -> int:
    """A child's exit code as a shell reports it: 128 + N for a process ended by signal N."""
    return 128 - exitcode if exitcode < 0 else exitcode


def root_failure(failures: Mapping[int, Any]) -> tuple[int, int]:
    """The rank that failed first and its exit status; a rank stopped on SIGTERM counts
    only when no other failed (the others were stopped because of the first)."""
    rank = min(
        failures,
        key=lambda r: (failures[r].exitcode in INTERRUPTED_CODES, failures[r].timestamp, r),
    )
    return rank, exit_status(int(failures[rank].exitcode))


def run_group(group: GroupSetup, env: Mapping[str, str], *, framework: str) -> int:
    """Run the pod's processes with torchrun; the pod's exit code (see the module)."""
    try:
        torchrun = importlib.import_module("torch.distributed.run")
        errors = importlib.import_module("torch.distributed.elastic.multiprocessing.errors")
        signals = importlib.import_module("torch.distributed.elastic.multiprocessing.api")
    except ImportError as error:  # the runtime on an image without torch
        message = f"bad input: spec.distributed: the {framework} image has no torchrun ({error})"
        write_termination_message(message, env)
        return EXIT_BAD_INPUT
    arguments = torchrun_arguments(group)
    with tempfile.TemporaryDirectory(prefix="aijob-ranks-") as rank_dir:
        # the processes torchrun starts inherit this process's environment
        os.environ.update(group_environment(group, env, framework=framework))
        os.environ[ENV_RANK_DIR] = rank_dir
        logger.info(
            "starting the pod's processes with torchrun",
            extra={"event": "launch", "torchrun": arguments, "world_size": group.world_size},
        )
        try:
            torchrun.run(torchrun.parse_args(arguments))
        except errors.ChildFailedError as error:
            rank, code = root_failure(error.failures)
            said = _read_message(rank_message_path(rank_dir, rank))
            write_termination_message(
                f"rank {rank} of {group.world_size}: {said or f'exited with code {code}'}", env
            )
            return code
        except signals.SignalException:
            write_termination_message("interrupted: the pod's processes were stopped", env)
            return EXIT_INTERRUPTED
        except Exception as error:  # rendezvous failures: the group never met
            logger.exception("torchrun failed")
            write_termination_message(f"torchrun failed: {type(error).__name__}: {error}", env)
            return EXIT_FAILED
        finally:
            os.environ.pop(ENV_RANK_DIR, None)
    logger.info("all processes of the pod succeeded", extra={"event": "launch_done"})
    return 0


def _read_message(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
