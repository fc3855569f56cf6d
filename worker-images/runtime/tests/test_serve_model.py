"""Batches of requests through a runner: split back, chunked, a bad record failing alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import pytest

from aijob_worker.errors import BadInputError
from aijob_worker.inference import LoadedModel
from aijob_worker.runners import Runner
from aijob_worker.serve.model import BatchExecutor, ServedModel, warm_up
from aijob_worker.serve.signature import ModelSignature
from aijob_worker.session import TrainingSession


class DoublingRunner(Runner):
    """Doubles numbers; a non-number is bad input at prepare, a negative one at infer."""

    framework: ClassVar[str] = "test"
    model_types: ClassVar[frozenset[str]] = frozenset({"double"})

    def __init__(self, model_type: str = "double") -> None:
        super().__init__(model_type)
        self.prepared_sizes: list[int] = []

    def prepare_training(self, session: TrainingSession) -> None:
        raise NotImplementedError

    def train(self, session: TrainingSession) -> dict[str, float]:
        raise NotImplementedError

    def save(self, model_dir: Path) -> dict[str, Any]:
        raise NotImplementedError

    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        self.prepared_sizes.append(len(records))
        for index, record in enumerate(records):
            if not isinstance(record, int | float):
                raise BadInputError(f"spec.input.records[{offset + index}]", "not a number")
        return list(records)

    def infer(self, prepared: Any) -> Any:
        for index, value in enumerate(prepared):
            if value < 0:
                raise BadInputError(f"spec.input.records[{index}]", "negative")
        return [value * 2 for value in prepared]

    def postprocess(self, raw: Any) -> list[Any]:
        return [{"value": value} for value in raw]


def values(outcome: Any) -> Any:
    if isinstance(outcome, BadInputError):
        return outcome.field
    return [output["value"] for output in outcome]


def test_one_batch_is_split_back_per_request() -> None:
    runner = DoublingRunner()
    result = BatchExecutor(runner, max_batch_size=8)([[1], [2, 3], [4]])
    assert [values(outcome) for outcome in result.outcomes] == [[2], [4, 6], [8]]
    assert runner.prepared_sizes == [4], "the requests ran through the model together"
    assert result.times.prepare_ms >= 0
    assert result.times.infer_ms >= 0
    assert result.times.postprocess_ms >= 0


def test_a_request_over_the_largest_batch_runs_in_chunks() -> None:
    runner = DoublingRunner()
    result = BatchExecutor(runner, max_batch_size=2)([[1, 2, 3, 4, 5]])
    assert values(result.outcomes[0]) == [2, 4, 6, 8, 10]
    assert runner.prepared_sizes == [2, 2, 1]


@pytest.mark.parametrize(
    ("requests", "expected"),
    [
        ([[1], [2, "x"], [3]], [[2], "spec.input.records[1]", [6]]),
        ([["x"], ["y", 1]], ["spec.input.records[0]", "spec.input.records[0]"]),
        ([[1, 2], [3, -4], [5]], [[2, 4], "spec.input.records[1]", [10]]),
    ],
    ids=["bad at prepare", "all bad", "bad at infer"],
)
def test_bad_input_fails_only_its_own_request_naming_its_own_record(
    requests: list[list[Any]], expected: list[Any]
) -> None:
    result = BatchExecutor(DoublingRunner(), max_batch_size=8)(requests)
    assert [values(outcome) for outcome in result.outcomes] == expected


def test_a_lone_bad_request_is_not_run_twice() -> None:
    runner = DoublingRunner()
    result = BatchExecutor(runner, max_batch_size=8)([[1, "x"]])
    assert values(result.outcomes[0]) == "spec.input.records[1]"
    assert runner.prepared_sizes == [2]


class AnyRecordRunner(DoublingRunner):
    """Takes any record, keeping the last batch it was given."""

    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        self.seen = list(records)
        return [1]


def served(runner: Runner, signature: ModelSignature) -> ServedModel:
    loaded = cast(LoadedModel, SimpleNamespace(runner=runner))
    return ServedModel("m", "file:///m", loaded, signature, checksum="0")


@pytest.mark.parametrize(
    ("signature", "record"),
    [(ModelSignature(feature_names=("a", "b")), [0.0, 0.0]), (ModelSignature(), "warm up")],
    ids=["tabular", "text"],
)
def test_warm_up_runs_one_made_up_record(signature: ModelSignature, record: Any) -> None:
    runner = AnyRecordRunner()
    assert warm_up(served(runner, signature)) is not None
    assert runner.seen == [record]


def test_a_failed_warm_up_is_logged_not_raised() -> None:
    assert warm_up(served(DoublingRunner(), ModelSignature(feature_names=("a",)))) is None
