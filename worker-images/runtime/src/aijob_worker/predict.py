"""One batch of records through a runner's inference stages: prepare, infer, postprocess.

The one inference path of the runtime: inference jobs (`inference.run_inference`)
and the model server (`serve`) both call `predict_batch`, so a runner behaves
the same in a job and behind an endpoint. Each stage is timed separately.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aijob_worker.runners import Runner


@dataclass
class StageTimes:
    """Milliseconds spent in each inference stage (summed over the chunks of a batch)."""

    prepare_ms: float = 0.0
    infer_ms: float = 0.0
    postprocess_ms: float = 0.0

    def add(self, other: StageTimes) -> None:
        """Add another batch's times to these."""
        self.prepare_ms += other.prepare_ms
        self.infer_ms += other.infer_ms
        self.postprocess_ms += other.postprocess_ms


def predict_batch(runner: Runner, records: Sequence[Any], *, offset: int = 0) -> PredictedBatch:
    """Run `records` (numbered from `offset` in error messages) through the runner's stages.

    A record the runner cannot use raises its `BadInputError`; a runner that
    returns another number of outputs than records raises RuntimeError.
    """
    times = StageTimes()
    started = time.perf_counter()
    prepared = runner.prepare(records, offset=offset)
    prepared_at = time.perf_counter()
    raw = runner.infer(prepared)
    inferred_at = time.perf_counter()
    outputs = runner.postprocess(raw)
    finished = time.perf_counter()
    times.prepare_ms = (prepared_at - started) * 1000
    times.infer_ms = (inferred_at - prepared_at) * 1000
    times.postprocess_ms = (finished - inferred_at) * 1000
    if len(outputs) != len(records):
        raise RuntimeError(
            f"{type(runner).__name__} returned {len(outputs)} outputs for {len(records)} records"
        )
    return PredictedBatch(outputs=outputs, times=times)


@dataclass(frozen=True)
class PredictedBatch:
    """The outputs of a batch, one per record in order, and the time of each stage."""

    outputs: list[Any]
    times: StageTimes
