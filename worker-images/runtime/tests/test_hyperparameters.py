"""Hyperparameters: defaults, camelCase names, and errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from aijob_worker.errors import BadInputError
from aijob_worker.hyperparameters import (
    EpochHyperparameters,
    Hyperparameters,
    OptimizerHyperparameters,
    parse_hyperparameters,
)


def test_reads_camel_case_names() -> None:
    parsed = parse_hyperparameters(
        OptimizerHyperparameters, {"epochs": 3, "learningRate": 0.1, "batchSize": 8, "seed": 7}
    )
    assert (parsed.epochs, parsed.learning_rate, parsed.batch_size, parsed.seed) == (3, 0.1, 8, 7)


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"learningRate": -1}, "spec.model.hyperparameters.learningRate", "greater than 0"),
        ({"epochs": 0}, "spec.model.hyperparameters.epochs", "greater than or equal to 1"),
        ({"epochs": "many"}, "spec.model.hyperparameters.epochs", "integer"),
        ({"batchSize": 10**9}, "spec.model.hyperparameters.batchSize", "less than"),
        (
            {"learningrate": 0.1},
            "spec.model.hyperparameters.learningrate",
            "not a hyperparameter of this model type; it reads batchSize, checkpointEveryEpochs",
        ),
    ],
)
def test_bad_hyperparameters_name_the_field(raw: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(BadInputError) as caught:
        parse_hyperparameters(OptimizerHyperparameters, raw)
    assert caught.value.field == field
    assert words in caught.value.problem
    assert caught.value.exit_code == 65


def test_one_pass_models_refuse_epochs_and_say_what_they_read() -> None:
    with pytest.raises(BadInputError) as caught:
        parse_hyperparameters(Hyperparameters, {"epochs": 5})
    assert caught.value.field == "spec.model.hyperparameters.epochs"
    assert caught.value.problem == "not a hyperparameter of this model type; it reads seed"


def test_derived_training_settings() -> None:
    assert parse_hyperparameters(Hyperparameters, {}).total_epochs == 1
    parsed = parse_hyperparameters(EpochHyperparameters, {"epochs": 4, "checkpointEveryEpochs": 2})
    assert (parsed.total_epochs, parsed.checkpoint_interval) == (4, 2)
