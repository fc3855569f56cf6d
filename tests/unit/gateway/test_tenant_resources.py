"""The gateway's allow-list of Secrets and claims is the operator's (same settings, same
rule): JobService.check_confined refuses a refused name with its field."""

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


def _service(settings: GatewaySettings) -> JobService:
    return JobService(
        cast(Any, NONE),
        cast(Any, NONE),
        cast(Any, NONE),
        cast(Any, NONE),
        settings.tenant_store,
        settings.tenant_resources,
    )


def _spec(secret: str) -> AIJobSpec:
    return AIJobSpec.model_validate(
        {
            "task": "training",
            "model": {"type": "random_forest"},
            "dataset": {"name": "iris"},
            "envFrom": [{"secretRef": {"name": secret}}],
        }
    )


def test_the_settings_globs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIJOB_GATEWAY_TENANT_SECRETS", '["team-*"]')
    service = _service(GatewaySettings())
    service.check_confined(TENANT, _spec("team-db"))
    with pytest.raises(InvalidRequestError) as error:
        service.check_confined(TENANT, _spec("aijob-user-x"))
    assert error.value.field == "spec.envFrom[0].secretRef.name"
    assert "'team-*'" in error.value.detail


@pytest.mark.parametrize("secret", ["aijob-storage", "db-password"])
def test_the_default_refuses_the_store_secret_and_unlisted_names(secret: str) -> None:
    with pytest.raises(InvalidRequestError) as error:
        _service(GatewaySettings()).check_confined(TENANT, _spec(secret))
    assert error.value.detail.startswith("spec.envFrom[0].secretRef.name: ")
