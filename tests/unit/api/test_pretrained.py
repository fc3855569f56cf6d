"""spec.model.pretrained: the pydantic mirror of its CEL rules; its uri confined to the store."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.pretrained import RESERVED_SECRET, PretrainedFormat
from aijob_api.spec import AIJobSpec
from aijob_api.storage import STORAGE_SECRET, TenantStore, spec_uri_problem
from aijob_api.tenant_resources import TenantResources, spec_resource_problem
from pydantic import ValidationError

STORE = TenantStore("s3", "aijob-team-a")


def job(pretrained: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "task": "training",
        "model": {"type": "bert", "pretrained": pretrained},
        "dataset": {"name": "sentiment"},
        **extra,
    }


def test_a_stored_model_defaults_to_the_hugging_face_format() -> None:
    spec = AIJobSpec.model_validate(job({"uri": "s3://aijob-team-a/models/bert"}))
    assert spec.model.pretrained is not None
    assert spec.model.pretrained.format is PretrainedFormat.HUGGINGFACE
    wire = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert wire["model"]["pretrained"] == {
        "uri": "s3://aijob-team-a/models/bert",
        "format": "huggingface",
    }


def test_a_hub_id_takes_a_token_secret() -> None:
    document = job({"hubId": "org/tiny-bert", "tokenSecret": {"name": "hub", "key": "token"}})
    spec = AIJobSpec.model_validate(document)
    assert spec.model.pretrained is not None
    assert spec.model.pretrained.token_secret is not None
    assert spec.model.pretrained.token_secret.key == "token"


@pytest.mark.parametrize(
    ("pretrained", "extra", "message"),
    [
        ({}, {}, "model.pretrained: needs exactly one of uri or hubId"),
        (
            {"uri": "s3://aijob-team-a/m", "hubId": "org/m"},
            {},
            "model.pretrained: needs exactly one of uri or hubId",
        ),
        (
            {"uri": "s3://aijob-team-a/m", "tokenSecret": {"name": "hub", "key": "t"}},
            {},
            "model.pretrained.tokenSecret: is for hubId only",
        ),
        (
            {"hubId": "org/m", "tokenSecret": {"name": RESERVED_SECRET, "key": "t"}},
            {},
            "model.pretrained.tokenSecret.name: cannot be the store's Secret",
        ),
        ({"hubId": "org/m", "format": "state_dict"}, {}, "model.pretrained.format: hubId"),
        ({"hubId": "../m"}, {}, "hubId"),
        ({"uri": "http://example.com/m"}, {}, "uri"),
        ({"uri": "s3://aijob-team-a/m", "format": "onnx"}, {}, "format"),
        (
            {"uri": "s3://aijob-team-a/m"},
            {"code": {"configMap": "c", "entrypoint": "t.py"}},
            "model.pretrained: is for built-in models",
        ),
    ],
)
def test_bad_pretrained_references_name_the_field(
    pretrained: dict[str, Any], extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace(".", r"\.")):
        AIJobSpec.model_validate(job(pretrained, **extra))


def test_pretrained_is_for_training_only() -> None:
    document = {
        "task": "inference",
        "model": {
            "type": "bert",
            "source": {"trainingJob": "t"},
            "pretrained": {"uri": "s3://aijob-team-a/m"},
        },
        "input": {"records": ["a"]},
    }
    with pytest.raises(ValidationError, match=r"model\.pretrained: is for training jobs only"):
        AIJobSpec.model_validate(document)


def test_the_pretrained_uri_is_confined_to_the_tenant_store() -> None:
    inside = AIJobSpec.model_validate(job({"uri": "s3://aijob-team-a/models/bert"}))
    assert spec_uri_problem(inside, STORE) is None
    outside = AIJobSpec.model_validate(job({"uri": "s3://aijob-team-b/models/bert"}))
    problem = spec_uri_problem(outside, STORE)
    assert problem is not None
    assert problem[0] == "spec.model.pretrained.uri"
    assert problem[1].startswith("spec.model.pretrained.uri: 's3://aijob-team-b/models/bert'")


def test_the_reserved_secret_is_the_store_secret() -> None:
    assert RESERVED_SECRET == STORAGE_SECRET


def test_the_token_secret_passes_the_admins_allow_list() -> None:
    def problem(name: str) -> tuple[str, str] | None:
        pretrained = {"hubId": "org/m", "tokenSecret": {"name": name, "key": "token"}}
        return spec_resource_problem(AIJobSpec.model_validate(job(pretrained)), TenantResources())

    assert problem("aijob-user-hub") is None
    refused = problem("hub-token")
    assert refused is not None
    assert refused[0] == "spec.model.pretrained.tokenSecret.name"
    assert "the Secret 'hub-token' is not allowed" in refused[1]
