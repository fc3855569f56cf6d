"""The gateway's storage settings give each tenant the store the operator gives it, and a
submission naming a URI outside it is refused with the field (JobService.check_confined, and
EndpointService.check_confined for an endpoint's model)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.models import AIJobSpec
from aijob_api.storage import StorageMode, TenantStore
from aijob_gateway.errors import InvalidRequestError
from aijob_gateway.security.keys import Tenant
from aijob_gateway.services.endpoints import EndpointService
from aijob_gateway.services.jobs import JobService
from aijob_gateway.settings import GatewaySettings
from pydantic import ValidationError

NONE: Any = None


def _service(settings: GatewaySettings) -> JobService:
    return JobService(
        cast(Any, NONE), cast(Any, NONE), cast(Any, NONE), cast(Any, NONE), settings.tenant_store
    )


def _spec(dataset_uri: str) -> AIJobSpec:
    return AIJobSpec.model_validate(
        {"task": "training", "model": {"type": "random_forest"}, "dataset": {"uri": dataset_uri}}
    )


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (GatewaySettings(), TenantStore("s3", "aijob-team-a")),
        (GatewaySettings(s3_bucket_template="ml-{namespace}-x"), TenantStore("s3", "ml-team-a-x")),
        (
            GatewaySettings(storage_mode=StorageMode.HOST_PATH),
            TenantStore("file", "/var/lib/aijob/artifacts/team-a"),
        ),
    ],
)
def test_the_tenant_store_is_the_operators(
    settings: GatewaySettings, expected: TenantStore
) -> None:
    assert settings.tenant_store("team-a") == expected


def test_a_template_without_the_namespace_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="must contain"):
        GatewaySettings(s3_bucket_template="one-bucket")


@pytest.mark.parametrize(
    ("uri", "refused"),
    [
        ("s3://aijob-team-a/data/train.csv", False),
        ("s3://aijob-team-b/data/train.csv", True),
        ("file:///var/lib/aijob/artifacts/team-b/x.csv", True),
        ("s3://aijob-team-a/data/%2e%2e/x.csv", True),
    ],
)
def test_check_confined_names_the_field(uri: str, refused: bool) -> None:
    service = _service(GatewaySettings())
    tenant = Tenant(namespace="team-a", key_id="k1")
    if not refused:
        service.check_confined(tenant, _spec(uri))
        return
    with pytest.raises(InvalidRequestError) as error:
        service.check_confined(tenant, _spec(uri))
    assert error.value.field == "spec.dataset.uri"
    assert error.value.detail.startswith(f"spec.dataset.uri: {uri!r}: ")


def test_a_namespace_making_no_bucket_name_is_refused() -> None:
    service = _service(GatewaySettings())
    with pytest.raises(InvalidRequestError, match="no artifact store for this namespace"):
        service.check_confined(Tenant(namespace="x" * 60, key_id="k1"), _spec("s3://b/x"))


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        ({"uri": "s3://aijob-team-a/models/iris"}, False),
        ({"trainingJob": "iris-forest"}, False),  # the operator checks the recorded model
        ({"uri": "s3://aijob-team-b/jobs/iris/model"}, True),
        ({"uri": "file:///var/lib/aijob/artifacts/team-b/model"}, True),
    ],
)
def test_an_endpoints_model_outside_the_tenants_store_is_refused(
    source: dict[str, str], refused: bool
) -> None:
    service = EndpointService(
        cast(Any, NONE), cast(Any, NONE), cast(Any, NONE), GatewaySettings().tenant_store
    )
    spec = AIEndpointSpec.model_validate({"model": {"type": "random_forest", "source": source}})
    tenant = Tenant(namespace="team-a", key_id="k1")
    if not refused:
        service.check_confined(tenant, spec)
        return
    with pytest.raises(InvalidRequestError) as error:
        service.check_confined(tenant, spec)
    assert error.value.field == "spec.model.source.uri"
    assert error.value.detail.startswith(f"spec.model.source.uri: {source['uri']!r}: ")


@pytest.mark.parametrize(
    ("uri", "refused"),
    [
        ("s3://aijob-team-a/data/train.parquet", False),
        ("s3://aijob-team-a/data/shards/", False),
        ("s3://aijob-team-a/data/train.jsonl", False),
        ("s3://aijob-team-a/data/train.xlsx", True),
    ],
)
def test_a_data_set_in_no_format_the_workers_read_is_refused(uri: str, refused: bool) -> None:
    if not refused:
        JobService.check_data_format(_spec(uri))
        return
    with pytest.raises(InvalidRequestError) as error:
        JobService.check_data_format(_spec(uri))
    assert error.value.field == "spec.dataset.uri"
    assert error.value.detail.startswith(f"spec.dataset.uri: {uri!r}: not a data format")
