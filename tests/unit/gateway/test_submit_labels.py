"""The gateway checks an AIJob's labels with the API's one label validator."""

from __future__ import annotations

import pytest
from aijob_api.validation import label_key_problem, label_value_problem
from aijob_gateway.schemas.jobs import SubmitJobRequest
from pydantic import ValidationError

from tests.unit.api.test_validation import INVALID_KEYS, INVALID_VALUES, VALID_KEYS, VALID_VALUES

SPEC = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}


def _accepted(labels: dict[str, str]) -> bool:
    try:
        SubmitJobRequest.model_validate({"spec": SPEC, "labels": labels})
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("key", VALID_KEYS + INVALID_KEYS)
def test_keys_as_the_api_judges_them(key: str) -> None:
    assert _accepted({key: "x"}) is (label_key_problem(key) is None)


@pytest.mark.parametrize("value", VALID_VALUES + INVALID_VALUES)
def test_values_as_the_api_judges_them(value: str) -> None:
    assert _accepted({"team": value}) is (label_value_problem(value) is None)
