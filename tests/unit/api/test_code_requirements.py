"""spec.code.requirements: names, extras and version specifiers only, and not with a command."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aijob_api.code import MAX_REQUIREMENTS, REQUIREMENT_PATTERN
from aijob_api.spec import AIJobSpec
from pydantic import ValidationError


def custom(**code: Any) -> dict[str, Any]:
    return {"task": "training", "framework": "pytorch", "code": code}


@pytest.mark.parametrize(
    "requirement",
    [
        "rich",
        "rich>=13",
        "rich[jupyter]>=13,<14",
        "torch-geometric==2.5.*",
        "a_b.c ~= 1.2",
        "x===1",
    ],
)
def test_a_name_extras_and_specifiers_are_accepted(requirement: str) -> None:
    spec = AIJobSpec.model_validate(
        custom(configMap="c", entrypoint="t.py", requirements=[requirement])
    )
    assert spec.code is not None
    assert spec.code.requirements == [requirement]


@pytest.mark.parametrize(
    "requirement",
    [
        "--index-url=http://evil/simple",  # an option
        "-e .",
        "pkg @ https://evil/pkg.whl",  # a direct reference
        "https://evil/pkg.whl",
        "./local/pkg",
        "/abs/pkg.whl",
        "pkg; python_version>'3'",  # a marker
        "pkg --hash=sha256:00",
        "pkg\n--extra-index-url http://evil",
        "",
        "pkg>=",
    ],
)
def test_urls_paths_options_and_markers_are_refused_naming_the_item(requirement: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AIJobSpec.model_validate(
            custom(configMap="c", entrypoint="t.py", requirements=["ok", requirement])
        )
    (error,) = caught.value.errors()
    assert error["loc"] == ("code", "requirements", 1)  # spec.code.requirements[1]
    assert re.match(REQUIREMENT_PATTERN, requirement) is None


def test_at_most_64_requirements() -> None:
    many = [f"pkg{index}" for index in range(MAX_REQUIREMENTS + 1)]
    with pytest.raises(ValidationError) as caught:
        AIJobSpec.model_validate(custom(configMap="c", entrypoint="t.py", requirements=many))
    assert caught.value.errors()[0]["loc"] == ("code", "requirements")


def test_requirements_need_the_aijob_worker_not_a_command_of_ones_own() -> None:
    document = custom(image="example.com/t:1", command=["./run"], requirements=["rich"])
    with pytest.raises(ValidationError) as caught:
        AIJobSpec.model_validate(document)
    assert "code.requirements: installed by the aijob worker" in str(caught.value)
    # an own image that runs the aijob worker may install them
    AIJobSpec.model_validate(
        custom(configMap="c", entrypoint="t.py", image="example.com/t:1", requirements=["rich"])
    )
