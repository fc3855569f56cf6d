"""The runner registry: lookup by model type, clear errors, no double registration."""

from __future__ import annotations

from typing import ClassVar

import pytest

from aijob_worker.errors import BadInputError
from aijob_worker.runners import RunnerRegistry
from tests.softmax_runner import SoftmaxRunner


def test_lookup_by_model_type(registry: RunnerRegistry) -> None:
    assert registry.runner_for("softmax") is SoftmaxRunner
    assert registry.model_types == ["softmax"]
    assert "numpy" in registry.framework_versions()


def test_unknown_model_type_lists_what_is_served(registry: RunnerRegistry) -> None:
    with pytest.raises(BadInputError) as caught:
        registry.runner_for("resnet")
    assert caught.value.field == "spec.model.type"
    assert "it serves: softmax" in caught.value.problem


def test_a_model_type_cannot_be_registered_twice() -> None:
    class Other(SoftmaxRunner):
        model_types: ClassVar[frozenset[str]] = frozenset({"softmax"})

    with pytest.raises(RuntimeError, match="registered twice"):
        RunnerRegistry([SoftmaxRunner, Other])


def test_entry_points_of_an_environment_without_runners_give_an_empty_registry() -> None:
    assert RunnerRegistry.from_entry_points(group="aijob.no-such-group").model_types == []
