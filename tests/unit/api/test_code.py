"""spec.code: the pydantic mirror of its CEL rules; its archive confined to the store."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.spec import AIJobSpec
from aijob_api.storage import TenantStore, spec_uri_problem
from pydantic import ValidationError

STORE = TenantStore("s3", "aijob-team-a")


def custom(**code: Any) -> dict[str, Any]:
    return {"task": "training", "framework": "pytorch", "code": code}


def test_code_needs_no_model_type_nor_dataset() -> None:
    spec = AIJobSpec.model_validate(
        custom(configMap="my-code", entrypoint="train.py", args=["--epochs", "3"])
    )
    assert spec.code is not None
    assert spec.code.program == "train.py"
    assert spec.model.type is None
    assert spec.resolved_framework.value == "pytorch"


def test_a_custom_command_needs_no_entry_point() -> None:
    spec = AIJobSpec.model_validate(custom(image="example.com/t:1", command=["python", "/t.py"]))
    assert spec.code is not None
    assert spec.code.program == "python"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (custom(configMap="c", archiveUri="s3://aijob-team-a/c.zip", entrypoint="t.py"), "code:"),
        (custom(entrypoint="train.py"), "code: needs exactly one of configMap or archiveUri"),
        (custom(configMap="c"), "code: needs exactly one of entrypoint or module"),
        (custom(configMap="c", entrypoint="../train.py"), "entrypoint"),
        (custom(configMap="c", entrypoint="/abs/train.py"), "entrypoint"),
        (custom(configMap="c", module="pkg..mod"), "module"),
        (custom(configMap="c", command=["./run"]), "code.command: runs in a custom image"),
        (custom(configMap="c", entrypoint="t.py", image="bad image"), "image"),
        (custom(archiveUri="s3://aijob-team-a/train.py", entrypoint="t.py"), "code.archiveUri"),
        (
            {"task": "training", "code": {"configMap": "c", "entrypoint": "t.py"}},
            "framework: required when spec.model.type is left out",
        ),
        (
            {"task": "training", "framework": "pytorch", "dataset": {"name": "iris"}},
            "model.type: required unless spec.code",
        ),
        (
            {
                "task": "inference",
                "model": {"type": "torchscript", "source": {"trainingJob": "t"}},
                "input": {"records": [[1.0]]},
                "code": {"configMap": "c", "entrypoint": "t.py"},
            },
            "code: spec.code is for training jobs only",
        ),
    ],
    ids=[
        "both-sources",
        "no-source",
        "no-entry",
        "dotdot",
        "absolute",
        "bad-module",
        "command-without-image",
        "bad-image",
        "not-an-archive",
        "no-framework",
        "no-model-type",
        "inference",
    ],
)
def test_bad_code_is_refused_naming_the_field(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AIJobSpec.model_validate(document)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("uri", "refused"),
    [
        ("s3://aijob-team-a/code/train.tar.gz", False),
        ("s3://aijob-team-b/code/train.tar.gz", True),
        ("s3://aijob-team-a/code/../x.tar.gz", True),
        ("file:///etc/code.tar.gz", True),
    ],
)
def test_the_archive_stays_in_the_tenants_store(uri: str, refused: bool) -> None:
    spec = AIJobSpec.model_validate(custom(archiveUri=uri, module="trainer.main"))
    problem = spec_uri_problem(spec, STORE)
    if not refused:
        assert problem is None
        return
    assert problem is not None
    field, message = problem
    assert field == "spec.code.archiveUri"
    assert message.startswith(f"spec.code.archiveUri: {uri!r}")
