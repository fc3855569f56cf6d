"""The one label validator, and the CEL rules built from the same data as the Python checks."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.cel import exactly_one_rule, reserved_key_prefixes_rule, spoken_list
from aijob_api.crd import build_crd
from aijob_api.metadata import PodTemplateMetadata
from aijob_api.validation import (
    RESERVED_LABEL_PREFIXES,
    label_key_problem,
    label_value_problem,
    labels_problem,
)
from pydantic import ValidationError

VALID_KEYS = [
    "team",
    "a",
    "app.kubernetes.io/name",
    "example.com/Cost_Center.2",
    "k" * 63,
    f"{'p' * 63}.{'q' * 63}.{'r' * 63}.{'s' * 61}/name",  # a 253-character prefix
]
INVALID_KEYS = [
    "",
    "k" * 64,
    "-team",
    "team-",
    "a//b",
    "/name",
    "Example.com/name",
    "example.com/",
    "has space",
    f"{'p' * 63}.{'q' * 63}.{'r' * 63}.{'s' * 62}/name",  # a 254-character prefix
]
VALID_VALUES = ["", "a", "v1.2_rc-3", "v" * 63]
INVALID_VALUES = ["v" * 64, "-a", "a-", "a b", "é"]


@pytest.mark.parametrize("key", VALID_KEYS)
def test_valid_keys(key: str) -> None:
    assert label_key_problem(key) is None


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_are_named(key: str) -> None:
    problem = label_key_problem(key)
    assert problem is not None
    assert repr(key) in problem


@pytest.mark.parametrize("value", VALID_VALUES)
def test_valid_values(value: str) -> None:
    assert label_value_problem(value) is None


@pytest.mark.parametrize("value", INVALID_VALUES)
def test_invalid_values_are_named(value: str) -> None:
    problem = label_value_problem(value)
    assert problem is not None
    assert repr(value) in problem


@pytest.mark.parametrize(
    ("labels", "reserved", "problem"),
    [
        ({"team": "nlp"}, True, None),
        ({"aijob.dev/job-name": "x"}, False, None),
        ({"aijob.dev/job-name": "x"}, True, "pods: the key 'aijob.dev/job-name' uses a reserved"),
        (
            {"kueue.x-k8s.io/queue-name": "q"},
            True,
            "pods: the key 'kueue.x-k8s.io/queue-name' uses",
        ),
        ({"a//b": "x"}, False, "pods: 'a//b' is not a valid key"),
        ({"team": "v" * 64}, False, "pods['team']: 'vvvv"),
    ],
)
def test_label_maps(labels: dict[str, str], reserved: bool, problem: str | None) -> None:
    found = labels_problem(labels, "pods", reserved=reserved)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)


@pytest.mark.parametrize(
    ("metadata", "accepted"),
    [
        ({"labels": {"team": "nlp"}, "annotations": {"example.com/x": "anything at all"}}, True),
        ({"labels": {"k" * 64: "x"}}, False),
        ({"labels": {"team": "v" * 64}}, False),
        ({"labels": {"batch.kubernetes.io/job-name": "x"}}, False),
        ({"annotations": {"a//b": "x"}}, False),
    ],
)
def test_pod_template_metadata_uses_the_validator(metadata: dict[str, Any], accepted: bool) -> None:
    if accepted:
        PodTemplateMetadata.model_validate(metadata)
    else:
        with pytest.raises(ValidationError, match=r"podTemplate\.(labels|annotations)"):
            PodTemplateMetadata.model_validate(metadata)


def test_the_reserved_prefix_rule_is_built_from_the_tuple() -> None:
    rule = reserved_key_prefixes_rule(("a.io/", "b.io/"), "label keys")
    assert rule == {
        "rule": "self.all(k, !k.startsWith('a.io/') && !k.startsWith('b.io/'))",
        "message": "label keys under a.io/ and b.io/ are reserved",
    }


def test_the_crd_carries_the_reserved_prefix_rule_of_the_python_check() -> None:
    spec = build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    labels = spec["properties"]["podTemplate"]["properties"]["labels"]
    [rule] = labels["x-kubernetes-validations"]
    for prefix in RESERVED_LABEL_PREFIXES:
        assert f"!k.startsWith('{prefix}')" in rule["rule"]
    assert rule["rule"].count("startsWith") == len(RESERVED_LABEL_PREFIXES)


@pytest.mark.parametrize("prefixes", [(), ("it's/",), ("a\\b/",)])
def test_a_rule_cel_cannot_quote_is_refused(prefixes: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="prefix"):
        reserved_key_prefixes_rule(prefixes, "keys")


@pytest.mark.parametrize(
    ("items", "spoken"),
    [((), ""), (("a",), "a"), (("a", "b"), "a and b"), (("a", "b", "c"), "a, b and c")],
)
def test_spoken_list(items: tuple[str, ...], spoken: str) -> None:
    assert spoken_list(items) == spoken


def test_exactly_one_rule() -> None:
    assert exactly_one_rule("name", "uri", "m") == {
        "rule": "has(self.name) != has(self.uri)",
        "message": "m",
    }
