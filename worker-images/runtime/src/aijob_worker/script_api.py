"""The API your own training code imports (`spec.code`): progress, checkpoints, the model.

    from aijob_worker import (report, checkpoint_dir, save_checkpoint, latest_checkpoint,
                              model_dir, save_model, output_dir, hyperparameters)

A script run by the `custom` runner (`aijob_worker.custom`) talks to the same training
session as the built-in runners: `report` writes progress and the metric history into the
AIJob's status, `save_checkpoint` uploads what the script wrote into `checkpoint_dir()` and
names it in `status.checkpoint`, and the next attempt finds it in `latest_checkpoint()`.
What the script writes into `model_dir()` and declares with `save_model` becomes
`results.modelUri` with a manifest of checksums, loadable by inference jobs and endpoints
when its model type has a runner (`torchscript`: a `torch.jit.save`d `model.pt`). Files in
`output_dir()` are uploaded below `<artifact URI>/outputs/` and listed as artifacts.

In a distributed job (`spec.distributed`, launched by torchrun) every process runs the
script with torchrun's RANK, LOCAL_RANK and WORLD_SIZE; the functions are rank-aware:
every rank's `report` shows in `status.ranks`, rank 0's also in `status.progress`, and
only rank 0's checkpoints, model and outputs are kept.

On SIGTERM (the pod deleted, preempted, the job cancelled) the next `report` or
`save_checkpoint` ends the attempt (exit 143) with the last checkpoint in the status, so
the next attempt resumes from it. Outside a job run by aijob each function raises
`RuntimeError`, except `report`, which then reports through `aijob_worker.reporting`
(into the status file or the log when run by hand).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aijob_worker import reporting
from aijob_worker.checkpoints import ResumePoint
from aijob_worker.distributed import Rank
from aijob_worker.errors import BadInputError, JobInterruptedError
from aijob_worker.progress import clean_metrics
from aijob_worker.session import TrainingSession

_MODEL_TYPE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SavedModel:
    """What `save_model` declared: the model type its manifest names, and its metadata."""

    model_type: str
    metadata: dict[str, Any]


@dataclass
class ScriptRun:
    """The state of one run of the user's code (one attempt)."""

    session: TrainingSession
    model_dir: Path
    output_dir: Path
    staging_dir: Path
    saved_model: SavedModel | None = None
    last_epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    """The latest value of every metric reported (the results' metrics)."""
    rank: Rank = field(default_factory=Rank)
    """This process's rank: only rank 0 saves checkpoints and the model."""


_active: ScriptRun | None = None


@contextmanager
def active_run(run: ScriptRun) -> Iterator[ScriptRun]:
    """Make `run` the one the API functions act on, for the duration of the user's code."""
    global _active
    for directory in (run.model_dir, run.output_dir):
        directory.mkdir(parents=True, exist_ok=True)
    _active = run
    try:
        yield run
    finally:
        _active = None


def _run(what: str) -> ScriptRun:
    if _active is None:
        raise RuntimeError(f"aijob_worker.{what}() works only inside an AIJob with spec.code")
    return _active


def _stop_if_requested(run: ScriptRun) -> None:
    session = run.session
    if not session.stop_requested:
        return
    checkpoint = session.last_checkpoint
    uri = checkpoint.uri if checkpoint is not None else None
    if uri is None and session.resume is not None:
        uri = session.resume.uri
    raise JobInterruptedError(uri)


def report(
    *,
    epoch: int | None = None,
    total_epochs: int | None = None,
    step: int | None = None,
    total_steps: int | None = None,
    metrics: Mapping[str, Any] | None = None,
    stage: str | None = None,
) -> None:
    """Report progress: `epoch` N (1-based) finished of `total_epochs`, steps, metrics.

    With `epoch`, the metrics join the metric history (the loss curve); without, they only
    update `status.progress`. Ends the attempt when a stop was requested (SIGTERM).
    """
    if _active is None:  # not run by the custom runner: the process-wide reporter
        fields = {
            "epoch": epoch,
            "total_epochs": total_epochs,
            "step": step,
            "total_steps": total_steps,
            "metrics": metrics,
            "stage": stage,
        }
        reporting.report(**{key: value for key, value in fields.items() if value is not None})
        return
    run = _active
    if metrics:
        run.metrics.update(clean_metrics(metrics))
    if epoch is not None:
        run.last_epoch = epoch
        run.session.record_epoch(
            epoch=epoch,
            total_epochs=total_epochs if total_epochs is not None else epoch,
            metrics=metrics,
            step=step,
            total_steps=total_steps,
        )
    else:
        run.session.report(step=step, total_steps=total_steps, metrics=metrics)
    if stage is not None:
        run.session.report(stage=stage)
    _stop_if_requested(run)


def checkpoint_dir() -> Path:
    """An empty directory to write a checkpoint into, then call `save_checkpoint`."""
    run = _run("checkpoint_dir")
    if run.staging_dir.exists():
        shutil.rmtree(run.staging_dir)
    run.staging_dir.mkdir(parents=True)
    return run.staging_dir


def save_checkpoint(epoch: int, *, step: int | None = None) -> str:
    """Upload what is in `checkpoint_dir()` as the checkpoint after `epoch` epochs; its URI.

    The status names it (`status.checkpoint`); older ones beyond three are deleted. Ends
    the attempt right after when a stop was requested (SIGTERM): the next one resumes.
    In a group of processes only global rank 0's checkpoint is kept: on the other ranks
    the call drops what they wrote and returns "" (every rank resumes from rank 0's).
    """
    run = _run("save_checkpoint")
    if not run.staging_dir.is_dir() or not any(run.staging_dir.iterdir()):
        raise BadInputError(
            "spec.code", "save_checkpoint() called with nothing in checkpoint_dir()"
        )
    if not run.rank.is_main:  # rank 0's checkpoint is the job's; the others' are dropped
        shutil.rmtree(run.staging_dir, ignore_errors=True)
        _stop_if_requested(run)
        return ""
    try:
        checkpoint = run.session.publish_checkpoint(run.staging_dir, epoch=epoch, step=step)
    finally:
        shutil.rmtree(run.staging_dir, ignore_errors=True)
    _stop_if_requested(run)
    return checkpoint.uri


def latest_checkpoint() -> ResumePoint | None:
    """The checkpoint this attempt resumes from (`.directory`, `.epoch`, `.step`), or None."""
    return _run("latest_checkpoint").session.resume


def model_dir() -> Path:
    """The directory to write the trained model into, then call `save_model`."""
    return _run("model_dir").model_dir


def save_model(*, model_type: str, metadata: Mapping[str, Any] | None = None) -> None:
    """Declare the files in `model_dir()` the job's model, of `model_type`.

    `torchscript`: a `model.pt` written by `torch.jit.save`, with optional metadata
    `featureNames` (the record fields, in order) and `classNames` (the output's labels);
    aijob's inference jobs and endpoints load it. Uploaded when the code returns, by global
    rank 0 only in a group of processes (the other ranks' calls are checked, then dropped).
    """
    run = _run("save_model")
    if not _MODEL_TYPE.match(model_type):
        raise BadInputError(
            "spec.code", f"save_model(model_type={model_type!r}): lowercase letters, digits, '_'"
        )
    if not any(run.model_dir.iterdir()):
        raise BadInputError("spec.code", "save_model() called with nothing in model_dir()")
    run.saved_model = SavedModel(model_type=model_type, metadata=dict(metadata or {}))


def output_dir() -> Path:
    """A directory whose files are uploaded below `<artifact URI>/outputs/` as artifacts."""
    return _run("output_dir").output_dir


def hyperparameters() -> dict[str, Any]:
    """`spec.model.hyperparameters` of the job, as written (a copy)."""
    return dict(_run("hyperparameters").session.spec.model.hyperparameters)


def stop_requested() -> bool:
    """Whether SIGTERM arrived (the next `report` or `save_checkpoint` ends the attempt)."""
    return _run("stop_requested").session.stop_requested
