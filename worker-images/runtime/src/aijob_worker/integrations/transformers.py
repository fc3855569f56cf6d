"""transformers: `Trainer(..., callbacks=[AIJobTrainerCallback()])` reports into the AIJob.

Standalone, the callback reports through the process-wide reporter (see
`aijob_worker.reporting`). Inside the worker runtime it is given the stop flag:
on SIGTERM it asks the Trainer to save a checkpoint and stop after the current
step, and the runner turns that checkpoint into the AIJob's.

Under torchrun (several processes, each running the Trainer) only the world's process
zero reports, unless the callback is told that every process reports (`every_process`):
by default, in a process the runtime's launcher started, whose reporter writes only its
own `status.ranks.<rank>` entry for a rank other than 0. The stop check and the
runtime's hooks (`on_epoch`, `on_save`) run on every process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from aijob_worker.distributed import ENV_RANK_DIR
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
        every_process: bool | None = None,
    ) -> None:
        self._reporter = reporter
        self._every_process = (
            bool(os.environ.get(ENV_RANK_DIR)) if every_process is None else every_process
        )
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

    def _reports(self, state: TrainerState) -> bool:
        """Whether this process reports: the world's process zero, or every process."""
        return self._every_process or bool(state.is_world_process_zero)

    def on_step_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> TrainerControl:
        """Record the step; on a stop request, save a checkpoint and stop."""
        if self._reports(state):
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
        elif self._reports(state):
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
            if self._reports(state):
                self.reporter.report(metrics=self._metrics)
        return control
