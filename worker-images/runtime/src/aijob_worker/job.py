"""Run one job end to end and turn its outcome into the exit code of the contract.

0: success, results in the status (too large ones in the artifact store, named
there: `aijob_worker.results`). 65: bad input (bad hyperparameters, unknown
model type, unreadable data) or results the API server refuses, never retried,
with the reason in the termination message and on stderr. 143: stopped by
SIGTERM after saving a checkpoint. Anything else (1): a retryable failure, such
as results that could not be written because the API server stayed unreachable.

A PyTorch job's own code in a group of processes (`spec.distributed`) is launched
with torchrun (`aijob_worker.launch`): each process it starts runs the job here as its
rank, and the pod's exit code is that of the process that failed first; the launcher
installs the code's requirements before it starts them (`aijob_worker.requirements`).
On the status channel (`aijob_worker.channel`) the main process's last report is final and
carries this exit code and message (the outcome; the operator still decides the phase).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from aijob_api.contract import EXIT_BAD_INPUT, EXIT_SUCCESS
from aijob_api.models import Results, Task
from aijob_api.routing import Framework

from aijob_worker.channel import channel_writer_from_env, report_outcome
from aijob_worker.context import JobContext
from aijob_worker.custom import run_custom_training
from aijob_worker.distributed import (
    ENV_RANK_DIR,
    RankStatusWriter,
    group_environment,
    rank_progress_interval,
)
from aijob_worker.errors import BadInputError, JobInterruptedError
from aijob_worker.inference import run_inference
from aijob_worker.launch import rank_environment, run_group
from aijob_worker.progress import ProgressReporter
from aijob_worker.requirements import ensure_requirements
from aijob_worker.results import fit_results
from aijob_worker.runners import RunnerRegistry
from aijob_worker.signals import StopFlag
from aijob_worker.status import FileStatusWriter, KubeStatusWriter, LogStatusWriter, StatusWriter
from aijob_worker.termination import write_termination_message
from aijob_worker.training import run_training

logger = logging.getLogger(__name__)

EXIT_RETRYABLE = 1
MAX_STAGE_LENGTH = 253
RESULTS_WRITE_DEADLINE_SECONDS = 120.0
"""How long the results write keeps retrying (API server down) before the attempt fails."""


def make_status_writer(context: JobContext, env: Mapping[str, str]) -> StatusWriter:
    """The operator's status channel when the pod has one (no API credentials), else the
    AIJob's status through the API server, else the status file, else the log."""
    channel = channel_writer_from_env(env)
    if channel is not None:
        return channel
    if context.reports_to_cluster:
        assert context.namespace is not None
        assert context.name is not None
        return KubeStatusWriter.from_environment(
            namespace=context.namespace, name=context.name, uid=context.uid
        )
    if context.status_file:
        return FileStatusWriter(Path(context.status_file))
    return LogStatusWriter()


def run_job(
    env: Mapping[str, str],
    *,
    stop: StopFlag,
    registry: RunnerRegistry | None = None,
    writer: StatusWriter | None = None,
) -> int:
    """Run the job the environment describes; return the exit code."""
    env = rank_environment(env)
    try:
        context = JobContext.from_env(env)
        launcher = launches_processes(context, env, registry)
    except BadInputError as error:
        write_termination_message(str(error), env)
        return error.exit_code
    if launcher and context.group is not None:
        try:  # once for the pod's processes, which inherit PYTHONPATH
            wanted = context.spec.code.requirements if context.spec.code else None
            ensure_requirements(wanted or (), env)
        except BadInputError as error:
            write_termination_message(f"bad input: {error}", env)
            return error.exit_code
        return run_group(context.group, env, framework=context.framework.value)
    if context.group is not None and context.framework is Framework.TENSORFLOW:
        os.environ.update(group_environment(context.group, env, framework=context.framework.value))
    writer = writer or make_status_writer(context, env)
    outcome_writer = writer if context.rank.is_main else None
    if context.rank.world_size > 1:
        writer = RankStatusWriter(writer, context.rank)
    reporter = ProgressReporter(
        writer, interval=rank_progress_interval(context.progress_interval, context.rank)
    ).start()
    logger.info(
        "job started",
        extra={
            "event": "start",
            "task": context.spec.task.value,
            "model_type": context.spec.model.type,
            "code": context.spec.code.program if context.spec.code else None,
            "job": f"{context.namespace}/{context.name}" if context.reports_to_cluster else None,
            "rank": context.rank.rank if context.rank.world_size > 1 else None,
        },
    )
    try:
        registry = registry or RunnerRegistry.from_entry_points()
        with tempfile.TemporaryDirectory(prefix="aijob-work-") as work:
            task = (
                run_custom_training
                if context.spec.code is not None
                else run_training
                if context.spec.task is Task.TRAINING
                else run_inference
            )
            results = task(
                context,
                registry,
                writer=writer,
                reporter=reporter,
                stop=stop,
                work_dir=Path(work),
            )
            results = fit_results(results, context.artifact_uri, Path(work))
    except BadInputError as error:
        message = f"bad input: {error}"
        code = _fail(reporter, env, error.exit_code, message, f"failed: {error}")
        return _finish(outcome_writer, code, message)
    except JobInterruptedError as error:
        code = _fail(
            reporter,
            env,
            error.exit_code,
            str(error),
            "interrupted: checkpoint saved" if error.checkpoint_uri else "interrupted",
        )
        return _finish(outcome_writer, code, str(error))
    except Exception as error:
        logger.exception("job failed")
        message = f"{type(error).__name__}: {error}"
        code = _fail(reporter, env, EXIT_RETRYABLE, message, f"error: {message}")
        return _finish(outcome_writer, code, message)
    code = _succeed(reporter, env, results)
    return _finish(outcome_writer, code, "" if code == EXIT_SUCCESS else "results not written")


def _finish(writer: StatusWriter | None, code: int, message: str) -> int:
    """Send the attempt's outcome over the status channel (the main process's), if any."""
    if writer is not None and report_outcome(writer, code, message) is False:
        logger.warning("the outcome was not acknowledged: the exit code and the Job decide")
    return code


def launches_processes(
    context: JobContext, env: Mapping[str, str], registry: RunnerRegistry | None = None
) -> bool:
    """Whether this process starts the pod's processes with torchrun (`aijob_worker.launch`).

    A PyTorch job's own code (`spec.code`) in a group does, and so does a built-in runner
    that trains with DDP (`Runner.distributed`) in a pod of several processes, unless this
    process is one torchrun started. The other built-in runners train in one process
    (the first GPU), and a group of several nodes without your own code is bad input.
    """
    group = context.group
    if group is None or env.get(ENV_RANK_DIR):
        return False
    if context.spec.code is not None:
        return context.framework is Framework.PYTORCH
    if group.nodes > 1:
        raise BadInputError(
            "spec.distributed.nodes",
            f"the built-in {context.spec.model.type} runner trains in one pod; a group of "
            f"{group.nodes} nodes runs your own distributed code (spec.code)",
        )
    if context.framework is Framework.PYTORCH:
        model_type = context.spec.model.type or ""
        if (registry or RunnerRegistry.from_entry_points()).runner_for(model_type).distributed:
            return True
    logger.warning(
        "this runner trains in one process; processesPerNode ignored",
        extra={"event": "single_process", "processes_per_node": group.processes_per_node},
    )
    return False


def _succeed(reporter: ProgressReporter, env: Mapping[str, str], results: Results) -> int:
    """Write the results (retrying while the API server is unreachable, not when it refuses).

    Results lost to an outage fail the attempt, which is retried; results the API
    server refuses would be refused again, so that failure is not retried.
    """
    reporter.close(final=False)
    reporter.report(percent=100, stage="succeeded")
    landed = reporter.write_now(
        {"results": results.model_dump(mode="json", by_alias=True, exclude_none=True)},
        deadline_seconds=RESULTS_WRITE_DEADLINE_SECONDS,
    )
    if not landed and not reporter.disabled:
        error = reporter.last_error
        if error is not None and error.refused:
            code = EXIT_BAD_INPUT
            message = f"the API server refused the results: {error}"
        else:
            code = EXIT_RETRYABLE
            message = f"the results could not be written into the AIJob's status ({error})"
        logger.error(message, extra={"event": "failed", "exit_code": code})
        write_termination_message(message, env)
        return code
    logger.info(
        "job succeeded",
        extra={"event": "succeeded", "metrics": results.metrics, "reported": landed},
    )
    return EXIT_SUCCESS


def _fail(
    reporter: ProgressReporter, env: Mapping[str, str], code: int, message: str, stage: str
) -> int:
    reporter.close(stage=stage[:MAX_STAGE_LENGTH])
    logger.error(message, extra={"event": "failed", "exit_code": code})
    write_termination_message(message, env)
    return code
