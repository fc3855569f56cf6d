"""transformers: `Trainer(..., callbacks=[AIJobTrainerCallback()])` reports into the AIJob.

Standalone, the callback reports through the process-wide reporter (see
`aijob_worker.reporting`). Inside the worker runtime it is given the stop flag:
on SIGTERM it asks the Trainer to save a checkpoint and stop after the current
step, and the runner turns that checkpoint into the AIJob's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from aijob_worker.progress import ProgressReporter
from aijob_worker.reporting import default_reporter
from aijob_worker.signals import StopFlag


class AIJobTrainerCallback(TrainerCallback):  # type: ignore[misc]
    """Reports global steps, epochs and logged metrics (loss, learning rate, eval_*)."""

    def __init__(
        self,
        *,
        reporter: ProgressReporter | None = None,
        stop: StopFlag | None = None,
        on_epoch: Callable[[TrainerState, dict[str, float]], None] | None = None,
        on_save: Callable[[TrainerState], None] | None = None,
    ) -> None:
        self._reporter = reporter
        self._stop = stop
        self._on_epoch = on_epoch
        self._on_save = on_save
        self._metrics: dict[str, float] = {}
        self.stopped = False
        """True when training stopped early because a stop was requested."""

    @property
    def reporter(self) -> ProgressReporter:
        """The reporter in use (the process-wide one unless given)."""
        if self._reporter is None:
            self._reporter = default_reporter()
        return self._reporter

    def on_step_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> TrainerControl:
        """Record the step; on a stop request, save a checkpoint and stop."""
        self.reporter.report(step=state.global_step, total_steps=state.max_steps or None)
        if self._stop is not None and self._stop.requested:
            self.stopped = True
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_epoch_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> TrainerControl:
        """Report the epoch reached (and hand it to the runtime's hook)."""
        if self._on_epoch is not None:
            self._on_epoch(state, dict(self._metrics))
        else:
            epochs = round(args.num_train_epochs) if args.num_train_epochs else None
            self.reporter.report(epoch=round(state.epoch or 0), total_epochs=epochs)
        return control

    def on_save(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> TrainerControl:
        """A Trainer checkpoint was written: hand it to the runtime's hook."""
        if self._on_save is not None:
            self._on_save(state)
        return control

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TrainerControl:
        """Report the logged metrics (numbers only)."""
        if logs:
            numbers = {k: v for k, v in logs.items() if k != "epoch" and isinstance(v, int | float)}
            self._metrics.update(numbers)
            self.reporter.report(metrics=self._metrics)
        return control
