"""A fine-tuning job whose pretrained model lies outside its tenant's store, or whose hub token
Secret the admin's allow-list refuses: refused by the gateway at submission (422 naming the
field), by the operator's own rules."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aijob_api.models import AIJobSpec
from aijob_gateway.errors import InvalidRequestError
from aijob_gateway.security.keys import Tenant
from aijob_gateway.services.jobs import JobService
from aijob_gateway.settings import GatewaySettings

NONE: Any = None
TENANT = Tenant(namespace="team-a", key_id="k1")


def _service() -> JobService:
    return JobService(
        cast(Any, NONE), cast(Any, NONE), cast(Any, NONE), cast(Any, NONE),
        GatewaySettings().tenant_store,
    )  # fmt: skip


def _spec(pretrained: dict[str, Any]) -> AIJobSpec:
    return AIJobSpec.model_validate(
        {
            "task": "training",
            "model": {"type": "bert", "pretrained": pretrained},
            "dataset": {"name": "sentiment"},
        }
    )


@pytest.mark.parametrize(
    "pretrained",
    [
        {"uri": "s3://aijob-team-a/models/bert"},
        {"uri": "s3://aijob-team-a/models/mlp.pt", "format": "state_dict"},
        {"hubId": "org/tiny-bert", "tokenSecret": {"name": "aijob-user-hub", "key": "token"}},
    ],
)
def test_a_model_in_the_tenants_store_or_a_hub_id_passes(pretrained: dict[str, Any]) -> None:
    _service().check_confined(TENANT, _spec(pretrained))


@pytest.mark.parametrize(
    "uri",
    [
        "s3://aijob-team-b/models/bert",
        "file:///var/lib/aijob/artifacts/team-b/bert",
        "s3://aijob-team-a/models/../../aijob-team-b/bert",
    ],
)
def test_a_model_outside_the_tenants_store_is_refused_naming_the_field(uri: str) -> None:
    with pytest.raises(InvalidRequestError) as error:
        _service().check_confined(TENANT, _spec({"uri": uri}))
    assert error.value.field == "spec.model.pretrained.uri"
    assert error.value.detail.startswith(f"spec.model.pretrained.uri: {uri!r}: ")


def test_a_token_secret_outside_the_allow_list_is_refused_naming_the_field() -> None:
    pretrained = {"hubId": "org/tiny-bert", "tokenSecret": {"name": "hub", "key": "token"}}
    with pytest.raises(InvalidRequestError) as error:
        _service().check_confined(TENANT, _spec(pretrained))
    assert error.value.field == "spec.model.pretrained.tokenSecret.name"
    assert "the Secret 'hub' is not allowed" in error.value.detail
