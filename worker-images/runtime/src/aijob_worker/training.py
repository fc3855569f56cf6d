"""A training job from start to results: prepare, train (resuming), save and upload.

Stages are timed (prepareMs, trainMs, uploadMs). The model directory is
uploaded below `<artifact URI>/model` with a manifest of checksums, and the
results name it (`modelUri`) and each file (`artifacts`, with SHA-256). An attempt
after the first continues from the status the last one left: its checkpoint and its
metric history (`status.metricHistory`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from aijob_api.models import AIJobStatus, Artifact, Results

from aijob_worker import __version__
from aijob_worker.checkpoints import CheckpointStore, ResumePoint
from aijob_worker.context import JobContext
from aijob_worker.errors import BadInputError, JobInterruptedError
from aijob_worker.hyperparameters import parse_hyperparameters
from aijob_worker.manifest import Manifest, write_manifest
from aijob_worker.pretrained import require_format
from aijob_worker.progress import ProgressReporter
from aijob_worker.runners import RunnerRegistry
from aijob_worker.session import TrainingSession
from aijob_worker.signals import StopFlag
from aijob_worker.status import StatusWriteError, StatusWriter
from aijob_worker.storage import join_uri, storage_for
from aijob_worker.timing import StageTimer

logger = logging.getLogger(__name__)


def read_previous_status(writer: StatusWriter) -> AIJobStatus | None:
    """The AIJob's status as an earlier attempt left it (None when it cannot be read)."""
    try:
        return writer.read_status()
    except StatusWriteError as error:
        logger.warning("cannot read the status to look for a checkpoint: %s", error)
        return None


def find_resume_point(
    status: AIJobStatus | None, store: CheckpointStore, work_dir: Path
) -> ResumePoint | None:
    """The checkpoint named in the AIJob's status, fetched and verified, if any."""
    if status is None or status.checkpoint is None:
        return None
    resume = store.fetch(status.checkpoint, work_dir / "resume")
    if resume is not None:
        logger.info(
            "resuming from checkpoint",
            extra={"event": "resume", "uri": resume.uri, "epoch": resume.epoch},
        )
    return resume


def upload_model(
    model_dir: Path, manifest: Manifest, artifact_uri: str
) -> tuple[str, list[Artifact]]:
    """Write the manifest into `model_dir`, upload it below `<artifact URI>/model`; the
    model's URI and its files as artifacts (`model/<path>`, with SHA-256)."""
    write_manifest(model_dir, manifest)
    model_uri = join_uri(artifact_uri, "model")
    stored = storage_for(model_uri).put_tree(model_dir, model_uri)
    artifacts = [
        Artifact(
            name=f"model/{item.relative_path}",
            uri=item.uri,
            sha256=item.sha256,
            size_bytes=item.size_bytes,
        )
        for item in stored
    ]
    return model_uri, artifacts


def run_training(
    context: JobContext,
    registry: RunnerRegistry,
    *,
    writer: StatusWriter,
    reporter: ProgressReporter,
    stop: StopFlag,
    work_dir: Path,
) -> Results:
    """Train the job's model and return its results (raises BadInputError, JobInterruptedError)."""
    spec = context.spec
    if spec.model.type is None:
        raise BadInputError("spec.model.type", "required unless spec.code runs your own code")
    model_type = spec.model.type
    runner_class = registry.runner_for(model_type)
    hyperparameters = parse_hyperparameters(
        runner_class.hyperparameters_model, spec.model.hyperparameters
    )
    if spec.model.pretrained is not None:
        require_format(spec.model.pretrained, runner_class.pretrained_formats, model_type)
    runner = runner_class(model_type)
    timer = StageTimer()
    store = CheckpointStore(context.artifact_uri, model_type=model_type, framework=runner.framework)

    with timer.stage("prepare"):
        reporter.report(stage="preparing")
        previous = read_previous_status(writer)
        if previous is not None and reporter.resume_history(previous.metric_history):
            logger.info("metric history resumed from the status", extra={"event": "resume"})
        resume = find_resume_point(previous, store, work_dir)
        if resume is not None:
            reporter.report(epoch=resume.epoch, total_epochs=hyperparameters.total_epochs)
        session = TrainingSession(
            spec=spec,
            hyperparameters=hyperparameters,
            reporter=reporter,
            stop=stop,
            checkpoints=store,
            work_dir=work_dir,
            resume=resume,
            rank=context.rank,
        )
        runner.prepare_training(session)
    if stop.requested:
        raise JobInterruptedError(None)

    with timer.stage("train"):
        stage = "training" if resume is None else f"training (resumed from epoch {resume.epoch})"
        reporter.report(stage=stage)
        metrics = dict(runner.train(session))

    model_uri: str | None = None
    artifacts: list[Artifact] = []
    with timer.stage("upload"):
        reporter.report(stage="uploading")
        model_dir = work_dir / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        if context.rank.is_main:  # the model of a group of processes is rank 0's
            metadata = runner.save(model_dir)
            model_uri, artifacts = upload_model(
                model_dir,
                Manifest(
                    model_type=model_type,
                    framework=runner.framework,
                    runtime_version=__version__,
                    framework_versions=registry.framework_versions(),
                    epoch=hyperparameters.total_epochs,
                    metadata=metadata,
                ),
                context.artifact_uri,
            )

    metrics["epochs"] = float(hyperparameters.total_epochs)
    metrics["epochsThisAttempt"] = float(session.epochs_run)
    if resume is not None:
        metrics["resumedFromEpoch"] = float(resume.epoch)
    return Results(
        metrics=metrics,
        model_uri=model_uri,
        artifacts=artifacts,
        timings=timer.to_status(),
        device=runner.device(),
    )
