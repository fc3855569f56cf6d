"""Keras: `model.fit(..., callbacks=[AIJobProgressCallback()])` reports into the AIJob.

Standalone, the callback reports through the process-wide reporter (see
`aijob_worker.reporting`). Inside the worker runtime it is given the training
session, and then also honours SIGTERM: after the current batch it saves a
checkpoint through the session and ends the attempt (exit 143).
"""

from __future__ import annotations

from typing import Any

import keras

from aijob_worker.progress import ProgressReporter
from aijob_worker.reporting import default_reporter
from aijob_worker.session import SaveState, TrainingSession


class AIJobProgressCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """Reports steps, epochs and the epoch's logs (loss, accuracy, val_*) as progress."""

    def __init__(
        self,
        *,
        session: TrainingSession | None = None,
        save: SaveState | None = None,
        reporter: ProgressReporter | None = None,
    ) -> None:
        super().__init__()
        self._session = session
        self._save = save
        self._reporter = reporter or (session.reporter if session else None)
        self._epoch = 0
        self._steps_per_epoch = 0
        self._epochs = 0

    @property
    def reporter(self) -> ProgressReporter:
        """The reporter in use (the process-wide one unless given)."""
        if self._reporter is None:
            self._reporter = default_reporter()
        return self._reporter

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Learn the plan: epochs and steps per epoch."""
        self._epochs = int(self.params.get("epochs") or 0)
        self._steps_per_epoch = int(self.params.get("steps") or 0)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Remember the epoch (0-based in Keras) for step numbering."""
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the step; inside the runtime, stop with a checkpoint on SIGTERM."""
        step = self._epoch * self._steps_per_epoch + batch + 1
        total = self._epochs * self._steps_per_epoch or None
        if self._session is not None and self._save is not None:
            self._session.step_end(
                epoch=self._epoch, step=step, total_steps=total or step, save=self._save
            )
        else:
            self.reporter.report(step=step, total_steps=total)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Report the finished epoch with its logs; inside the runtime, checkpoint when due."""
        metrics = dict(logs or {})
        step = (epoch + 1) * self._steps_per_epoch or None
        total = self._epochs * self._steps_per_epoch or None
        if self._session is not None and self._save is not None:
            self._session.epoch_end(
                epoch=epoch + 1,
                total_epochs=self._epochs,
                metrics=metrics,
                save=self._save,
                step=step,
                total_steps=total,
            )
        else:
            self.reporter.report(
                epoch=epoch + 1,
                total_epochs=self._epochs,
                step=step,
                total_steps=total,
                metrics=metrics,
            )
