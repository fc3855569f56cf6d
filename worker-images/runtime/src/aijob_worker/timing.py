"""Per-stage wall-clock timings (prepare, train, infer, upload), as the seed server reported."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from aijob_api.models import StageTimings

STAGES = ("prepare", "train", "infer", "upload")


class StageTimer:
    """Accumulates milliseconds per stage; a stage may be entered many times (per batch)."""

    def __init__(self) -> None:
        self.milliseconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block and add it to the stage's total."""
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.milliseconds[name] = self.milliseconds.get(name, 0.0) + elapsed

    def add(self, name: str, milliseconds: float) -> None:
        """Add time measured elsewhere (e.g. by `predict_batch`) to a stage's total."""
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")
        self.milliseconds[name] = self.milliseconds.get(name, 0.0) + milliseconds

    def to_status(self) -> StageTimings:
        """The totals as the status's StageTimings (rounded to 0.1 ms)."""
        rounded = {name: round(value, 1) for name, value in self.milliseconds.items()}
        return StageTimings(
            prepare_ms=rounded.get("prepare"),
            train_ms=rounded.get("train"),
            infer_ms=rounded.get("infer"),
            upload_ms=rounded.get("upload"),
        )
