"""Label selectors, as kubectl writes them."""

from __future__ import annotations

import pytest
from aijob_gateway.services.selectors import parse_selector

LABELS = {"team": "nlp", "stage": "prod", "aijob.dev/owner": "ana"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("team=nlp", True),
        ("team==nlp", True),
        ("team=vision", False),
        ("team!=vision", True),
        ("team!=nlp", False),
        ("missing!=x", True),
        ("team", True),
        ("!team", False),
        ("!missing", True),
        ("team in (nlp, vision)", True),
        ("team in (vision)", False),
        ("team notin (vision,audio)", True),
        ("team notin (nlp)", False),
        ("team=nlp,stage=prod", True),
        ("team=nlp,stage=dev", False),
        ("team in (nlp,vision),stage!=dev,!legacy", True),
        ("aijob.dev/owner=ana", True),
        (" team = nlp ", True),
    ],
)
def test_matching(selector: str, expected: bool) -> None:
    assert parse_selector(selector).matches(LABELS) is expected


@pytest.mark.parametrize(
    "selector",
    [
        "team=",
        "=nlp",
        "team in nlp",
        "team in ()",
        "team in (a",
        "team)",
        "a,,b",
        "team>=3",
        "t=a b",
        "a//b=x",
        f"{'k' * 64}=x",
        f"team={'v' * 64}",
        f"team in (nlp,{'v' * 64})",
        f"{'p' * 254}/team",
    ],
)
def test_invalid_selectors(selector: str) -> None:
    if selector == "team=":  # an empty value is valid in Kubernetes
        assert parse_selector(selector).matches({"team": ""})
        return
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the mistake
        parse_selector(selector)
