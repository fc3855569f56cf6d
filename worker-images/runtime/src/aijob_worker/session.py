"""What a runner's training loop talks to: progress, the stop flag, checkpoints.

The loop calls `step_end` after a batch (cheap, and the place to notice a
SIGTERM quickly) and `epoch_end` after an epoch. When a stop was requested,
either saves a checkpoint through the runner's `save` callback, reports it in
`status.checkpoint`, and raises `JobInterruptedError` (exit 143). In a group of processes
only rank 0 checkpoints.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from aijob_api.models import AIJobSpec, Checkpoint, DatasetSpec

from aijob_worker.checkpoints import CheckpointStore, ResumePoint
from aijob_worker.distributed import Rank
from aijob_worker.errors import BadInputError, JobInterruptedError
from aijob_worker.hyperparameters import Hyperparameters
from aijob_worker.progress import ProgressReporter
from aijob_worker.signals import StopFlag

logger = logging.getLogger(__name__)

H = TypeVar("H", bound=Hyperparameters)

SaveState = Callable[[Path], None]
"""Writes everything needed to resume into the given (empty) directory."""


class TrainingSession:
    """One training attempt as the runner sees it."""

    def __init__(
        self,
        *,
        spec: AIJobSpec,
        hyperparameters: Hyperparameters,
        reporter: ProgressReporter,
        stop: StopFlag,
        checkpoints: CheckpointStore,
        work_dir: Path,
        resume: ResumePoint | None = None,
        rank: Rank | None = None,
    ) -> None:
        self.spec = spec
        self.hyperparameters = hyperparameters
        self.reporter = reporter
        self.stop = stop
        self.checkpoints = checkpoints
        self.work_dir = work_dir
        self.resume = resume
        self.epochs_run = 0
        """Epochs completed in this attempt (not counting those restored)."""
        self.last_checkpoint: Checkpoint | None = None
        self.rank = rank or Rank()
        """This process's rank: only rank 0 checkpoints (every rank resumes from its)."""

    def hyperparameters_as(self, model: type[H]) -> H:
        """The parsed hyperparameters as the runner's own model (its `hyperparameters_model`)."""
        if not isinstance(self.hyperparameters, model):
            raise TypeError(
                f"hyperparameters are {type(self.hyperparameters).__name__}, not {model.__name__}"
            )
        return self.hyperparameters

    @property
    def dataset(self) -> DatasetSpec:
        """The training data set (the spec guarantees one for training jobs)."""
        if self.spec.dataset is None:
            raise BadInputError("spec.dataset", "a training job needs a dataset (name or uri)")
        return self.spec.dataset

    @property
    def start_epoch(self) -> int:
        """Epochs already done when this attempt started (0 without a checkpoint)."""
        return self.resume.epoch if self.resume is not None else 0

    @property
    def stop_requested(self) -> bool:
        """Whether SIGTERM (or another stop request) arrived."""
        return self.stop.requested

    def report(self, **fields: Any) -> None:
        """Pass-through to the progress reporter (see ProgressReporter.report)."""
        self.reporter.report(**fields)

    def step_end(
        self,
        *,
        epoch: int,
        step: int,
        total_steps: int,
        save: SaveState,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        """After a batch: record the step; on a stop request, checkpoint and stop.

        `epoch` is the number of epochs completed so far (the current one is not).
        """
        self.reporter.report(step=step, total_steps=total_steps, metrics=metrics)
        if self.stop.requested:
            self.interrupt(epoch=epoch, step=step, save=save)

    def epoch_end(
        self,
        *,
        epoch: int,
        total_epochs: int,
        save: SaveState,
        metrics: Mapping[str, Any] | None = None,
        step: int | None = None,
        total_steps: int | None = None,
    ) -> None:
        """After epoch `epoch` (1-based): report, then checkpoint when due or when stopping."""
        self.record_epoch(
            epoch=epoch,
            total_epochs=total_epochs,
            metrics=metrics,
            step=step,
            total_steps=total_steps,
        )
        if self.stop.requested:
            self.interrupt(epoch=epoch, step=step, save=save)
        every = self.hyperparameters.checkpoint_interval
        if every and epoch % every == 0 and epoch < total_epochs and self.rank.is_main:
            self.checkpoint(epoch=epoch, step=step, save=save)

    def record_epoch(
        self,
        *,
        epoch: int,
        total_epochs: int,
        metrics: Mapping[str, Any] | None = None,
        step: int | None = None,
        total_steps: int | None = None,
    ) -> None:
        """Count, report and log a finished epoch (for loops that checkpoint on their own)."""
        self.epochs_run += 1
        self.reporter.report(
            epoch=epoch,
            total_epochs=total_epochs,
            step=step,
            total_steps=total_steps,
            metrics=metrics,
        )
        logger.info(
            "epoch finished",
            extra={
                "event": "epoch_end",
                "epoch": epoch,
                "total_epochs": total_epochs,
                "metrics": dict(metrics or {}),
            },
        )

    def checkpoint(self, *, epoch: int, step: int | None, save: SaveState) -> Checkpoint:
        """Save, upload and report a checkpoint now."""
        directory = self.work_dir / "checkpoint-staging"
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        save(directory)
        try:
            return self.publish_checkpoint(directory, epoch=epoch, step=step)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def publish_checkpoint(self, directory: Path, *, epoch: int, step: int | None) -> Checkpoint:
        """Upload a checkpoint directory the runner filled and report it in the status.

        Once the status names it, older checkpoints beyond `keepCheckpoints` are deleted
        (not before: the status would still point at one of them).
        """
        checkpoint = self.checkpoints.save(directory, epoch=epoch, step=step)
        landed = self.reporter.write_now(
            {"checkpoint": checkpoint.model_dump(mode="json", by_alias=True, exclude_none=True)}
        )
        if landed:
            self.checkpoints.prune(checkpoint, keep=self.hyperparameters.checkpoints_kept)
        logger.info(
            "checkpoint saved",
            extra={
                "event": "checkpoint",
                "uri": checkpoint.uri,
                "epoch": epoch,
                "reported": landed,
            },
        )
        self.last_checkpoint = checkpoint
        return checkpoint

    def interrupt(self, *, epoch: int, step: int | None, save: SaveState) -> NoReturn:
        """Checkpoint what is done (rank 0) and end the attempt with the interrupted code."""
        if not self.rank.is_main:
            raise JobInterruptedError(None)
        checkpoint = self.checkpoint(epoch=epoch, step=step, save=save)
        raise JobInterruptedError(checkpoint.uri)
