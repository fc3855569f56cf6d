"""The `custom` runner: a training job that runs your own code (`spec.code`).

Stages as for the built-in runners (prepareMs, trainMs, uploadMs): prepare fetches the
code (`aijob_worker.code_source`), installs its requirements (`aijob_worker.requirements`)
and fetches the checkpoint the status names, train runs the code
(`aijob_worker.script_runner`) with the script API active (`aijob_worker.script_api`),
upload stores the model the code declared with `save_model` (a manifest of checksums, like
a built-in model, so inference jobs and endpoints load it) and the files of
`output_dir()`. The results' metrics are the last value of each metric the code reported,
plus `epochs` (the last epoch reported), `epochsThisAttempt` and `resumedFromEpoch`.
In a group of processes (`spec.distributed`) every rank runs the code; only global rank
0 uploads its model and outputs and writes the results (`aijob_worker.script_api`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from aijob_api.models import Artifact, Results

from aijob_worker import __version__
from aijob_worker.checkpoints import CheckpointStore
from aijob_worker.code_source import entry_script, fetch_code
from aijob_worker.context import JobContext
from aijob_worker.errors import BadInputError
from aijob_worker.hyperparameters import Hyperparameters
from aijob_worker.manifest import Manifest
from aijob_worker.progress import ProgressReporter
from aijob_worker.reporting import job_reporter
from aijob_worker.requirements import ensure_requirements
from aijob_worker.runners import RunnerRegistry
from aijob_worker.script_api import ScriptRun, active_run
from aijob_worker.script_runner import run_code
from aijob_worker.session import TrainingSession
from aijob_worker.signals import StopFlag
from aijob_worker.status import StatusWriter
from aijob_worker.storage import join_uri, storage_for
from aijob_worker.timing import StageTimer
from aijob_worker.training import find_resume_point, read_previous_status, upload_model

logger = logging.getLogger(__name__)

CUSTOM_MODEL_TYPE = "custom"
"""The model type of a custom job's checkpoints (the saved model has its own)."""
OUTPUTS_DIR = "outputs"


def run_custom_training(
    context: JobContext,
    registry: RunnerRegistry,
    *,
    writer: StatusWriter,
    reporter: ProgressReporter,
    stop: StopFlag,
    work_dir: Path,
) -> Results:
    """Run the job's own code and return its results (raises the contract's errors)."""
    spec = context.spec
    code = spec.code
    if code is None:
        raise BadInputError("spec.code", "a custom training job needs spec.code")
    timer = StageTimer()
    store = CheckpointStore(
        context.artifact_uri, model_type=CUSTOM_MODEL_TYPE, framework=context.framework.value
    )
    with timer.stage("prepare"):
        reporter.report(stage="preparing")
        root = fetch_code(code, Path(context.code_dir), work_dir)
        script = entry_script(code, root)
        if code.requirements:
            reporter.report(stage="installing requirements")
            ensure_requirements(code.requirements, os.environ)
        previous = read_previous_status(writer)
        if previous is not None and reporter.resume_history(previous.metric_history):
            logger.info("metric history resumed from the status", extra={"event": "resume"})
        resume = find_resume_point(previous, store, work_dir)
        session = TrainingSession(
            spec=spec,
            hyperparameters=Hyperparameters(),
            reporter=reporter,
            stop=stop,
            checkpoints=store,
            work_dir=work_dir,
            resume=resume,
        )
        run = ScriptRun(
            session=session,
            model_dir=work_dir / "model",
            output_dir=work_dir / OUTPUTS_DIR,
            staging_dir=work_dir / "checkpoint-staging",
            last_epoch=resume.epoch if resume is not None else 0,
            rank=context.rank,
        )
        if resume is not None:
            reporter.report(epoch=resume.epoch)

    with timer.stage("train"):
        resumed = "" if resume is None else f" (resumed from epoch {resume.epoch})"
        reporter.report(stage=f"running {code.program}{resumed}")
        logger.info("running your code", extra={"event": "code", "program": code.program})
        with active_run(run), job_reporter(reporter):  # the Keras/Trainer callbacks' too
            run_code(code, root, script)

    with timer.stage("upload"):
        reporter.report(stage="uploading")
        model_uri: str | None = None
        artifacts: list[Artifact] = []
        if run.saved_model is not None and context.rank.is_main:
            model_uri, artifacts = upload_model(
                run.model_dir,
                Manifest(
                    model_type=run.saved_model.model_type,
                    framework=context.framework.value,
                    runtime_version=__version__,
                    framework_versions=registry.framework_versions(),
                    epoch=run.last_epoch or None,
                    metadata=run.saved_model.metadata,
                ),
                context.artifact_uri,
            )
        if context.rank.is_main:  # the other ranks' files are not the job's
            artifacts += upload_outputs(run.output_dir, context.artifact_uri)

    metrics = dict(run.metrics)
    metrics["epochs"] = float(run.last_epoch)
    metrics["epochsThisAttempt"] = float(session.epochs_run)
    if resume is not None:
        metrics["resumedFromEpoch"] = float(resume.epoch)
    return Results(
        metrics=metrics,
        model_uri=model_uri,
        artifacts=artifacts,
        timings=timer.to_status(),
    )


def upload_outputs(output_dir: Path, artifact_uri: str) -> list[Artifact]:
    """The files the code wrote into `output_dir()`, below `<artifact URI>/outputs/`."""
    if not output_dir.is_dir() or not any(output_dir.iterdir()):
        return []
    uri = join_uri(artifact_uri, OUTPUTS_DIR)
    return [
        Artifact(
            name=f"{OUTPUTS_DIR}/{item.relative_path}",
            uri=item.uri,
            sha256=item.sha256,
            size_bytes=item.size_bytes,
        )
        for item in storage_for(uri).put_tree(output_dir, uri)
    ]
