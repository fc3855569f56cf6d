"""The spec's way to the worker: a document in a pod annotation, and the bound that follows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aijob_api.contract import SPEC_ANNOTATION
from aijob_api.delivery import (
    MAX_POD_ANNOTATIONS_BYTES,
    SPEC_DELIVERY_LIMIT_BYTES,
    spec_delivery_bytes,
    spec_delivery_problem,
    spec_document,
)
from aijob_api.models import AIJobSpec
from pydantic import ValidationError


def inference(records: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "task": "inference",
        "model": {"type": "random_forest", "source": {"trainingJob": "train"}},
        "input": {"records": records},
        **extra,
    }


def text_records(count: int, length: int) -> list[str]:
    return [f"{index:05d}".ljust(length, "x") for index in range(count)]


def test_a_thousand_records_of_200_characters_are_accepted() -> None:
    spec = AIJobSpec.model_validate(inference(text_records(1000, 200)))
    wire = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    size = spec_delivery_bytes(wire, SPEC_ANNOTATION)
    assert 200_000 < size <= SPEC_DELIVERY_LIMIT_BYTES < MAX_POD_ANNOTATIONS_BYTES


def test_records_too_large_for_a_pod_are_refused_naming_input_records() -> None:
    with pytest.raises(ValidationError) as raised:
        AIJobSpec.model_validate(inference(text_records(1000, 300)))
    message = str(raised.value)
    assert "input.records: the spec takes" in message
    assert "name it with input.uri" in message
    assert f"{SPEC_DELIVERY_LIMIT_BYTES // 1024} KiB" in message


def test_large_hyperparameters_are_named() -> None:
    spec = {
        "task": "training",
        "model": {"type": "random_forest", "hyperparameters": {"notes": "y" * 300_000}},
        "dataset": {"name": "iris"},
    }
    problem = spec_delivery_problem(spec, SPEC_ANNOTATION)
    assert problem is not None
    assert problem.startswith("model.hyperparameters: ")


def test_utf8_bytes_count_not_characters() -> None:
    # 1,000 records of 100 three-byte characters: 300 KB, though only 100 k characters.
    records = ["€" * 100 for _ in range(1000)]
    problem = spec_delivery_problem(inference(records), SPEC_ANNOTATION)
    assert problem is not None
    assert problem.startswith("input.records: ")


def test_the_document_is_compact_sorted_json_that_round_trips() -> None:
    spec = inference(["é", [1.5, 2]], priority="high")
    document = spec_document(spec)
    assert json.loads(document) == spec
    assert document.startswith('{"input":{"records":["é",[1.5,2]]},"model":')
    assert ", " not in document


def test_small_specs_have_no_problem() -> None:
    assert spec_delivery_problem(inference([[1, 2, 3, 4]]), SPEC_ANNOTATION) is None
