"""The validated AIJob models the reconciler reuses: one per resourceVersion, bounded."""

from __future__ import annotations

import pytest
from aijob_api.models import AIJob
from aijob_operator.store import AIJobStore
from aijob_operator.validated import ValidatedAIJobs

from tests.unit.operator.factories import aijob

KEY = ("team-a", "train")


def at_version(model: AIJob, version: str | None) -> AIJob:
    """The model as validated from the body of one resourceVersion."""
    metadata = model.metadata.model_copy(update={"resource_version": version})
    return model.model_copy(update={"metadata": metadata})


def test_a_model_is_reused_only_for_the_version_it_was_validated_from() -> None:
    models = ValidatedAIJobs()
    model = models.put(KEY, at_version(aijob(), "41"))
    assert models.get(KEY, "41") is model
    assert models.get(KEY, "42") is None  # the body changed: validate again
    assert models.get(KEY, None) is None
    assert models.get(("team-b", "train"), "41") is None  # another tenant's job of that name


def test_a_body_without_a_version_is_never_kept() -> None:
    models = ValidatedAIJobs()
    models.put(KEY, at_version(aijob(), None))
    models.put(KEY, at_version(aijob(), ""))
    assert len(models) == 0


def test_the_least_recently_used_model_goes_first() -> None:
    models = ValidatedAIJobs(capacity=2)
    first = models.put(("ns", "a"), at_version(aijob("a"), "1"))
    models.put(("ns", "b"), at_version(aijob("b"), "1"))
    assert models.get(("ns", "a"), "1") is first  # a is now the most recent
    third = models.put(("ns", "c"), at_version(aijob("c"), "1"))
    assert len(models) == 2
    assert models.get(("ns", "b"), "1") is None
    assert models.get(("ns", "a"), "1") is first
    assert models.get(("ns", "c"), "1") is third


def test_capacity_must_hold_one() -> None:
    with pytest.raises(ValueError, match="capacity"):
        ValidatedAIJobs(capacity=0)


def test_the_store_tells_a_bodys_version_without_decoding_it() -> None:
    store = AIJobStore()
    body = aijob().model_dump(mode="json", by_alias=True, exclude_none=True)
    body["metadata"] = {**body["metadata"], "resourceVersion": "12"}
    assert store.resource_version(KEY) is None
    store.put(body)
    key = (body["metadata"]["namespace"], body["metadata"]["name"])
    assert store.resource_version(key) == "12"
    store.remove(key)
    assert store.resource_version(key) is None
