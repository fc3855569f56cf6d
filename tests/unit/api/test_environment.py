"""spec.env, envFrom, volumes and placement: the model's rules and the tenant allow-list."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.environment import GPU_PRODUCT_LABEL
from aijob_api.spec import AIJobSpec
from aijob_api.tenant_resources import TenantResources, spec_resource_problem
from pydantic import ValidationError

BASE: dict[str, Any] = {
    "task": "training",
    "model": {"type": "mlp"},
    "dataset": {"name": "iris"},
}


def spec(**extra: Any) -> AIJobSpec:
    return AIJobSpec.model_validate({**BASE, **extra})


def secret_var(name: str, secret: str, key: str = "token") -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def test_a_full_spec_reads_and_writes_camel_case() -> None:
    parsed = spec(
        env=[{"name": "MODE", "value": "fast"}, secret_var("TOKEN", "aijob-user-creds")],
        envFrom=[{"secretRef": {"name": "aijob-user-env"}}],
        volumes=[{"claimName": "aijob-user-data", "mountPath": "/data", "subPath": "set/a"}],
        placement={"gpuProduct": "NVIDIA-H100-80GB-HBM3"},
        resources={"gpu": 1},
    )
    assert parsed.volumes[0].read_only is True
    wire = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert wire["env"][1]["valueFrom"]["secretKeyRef"] == {
        "name": "aijob-user-creds",
        "key": "token",
    }
    assert wire["envFrom"] == [{"secretRef": {"name": "aijob-user-env"}}]
    assert wire["volumes"][0]["readOnly"] is True
    assert spec().env == []
    assert spec().placement is None


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ({"env": [{"name": "AIJOB_NAME", "value": "x"}]}, "env[0].name"),
        ({"env": [{"name": "HOME", "value": "/x"}]}, "env[0].name"),
        ({"env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "x"}]}, "env[0].name"),
        ({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}, "env[1].name"),
        ({"env": [{"name": "A"}]}, "env[0]: needs exactly one"),
        (
            {"env": [{"name": "A", "value": "1", **secret_var("A", "aijob-user-x")}]},
            "env[0]: needs exactly one",
        ),
        ({"volumes": [{"claimName": "c", "mountPath": "/tmp/data"}]}, "volumes[0].mountPath"),
        ({"volumes": [{"claimName": "c", "mountPath": "/var/lib/aijob"}]}, "volumes[0].mountPath"),
        ({"volumes": [{"claimName": "c", "mountPath": "/var"}]}, "volumes[0].mountPath"),
        ({"volumes": [{"claimName": "c", "mountPath": "/etc/aijob/x"}]}, "volumes[0].mountPath"),
        ({"volumes": [{"claimName": "c", "mountPath": "/data/../tmp"}]}, "volumes[0].mountPath"),
        ({"volumes": [{"claimName": "c", "mountPath": "/"}]}, "volumes[0].mountPath"),
        (
            {
                "volumes": [
                    {"claimName": "c", "mountPath": "/d"},
                    {"claimName": "e", "mountPath": "/d/"},
                ]
            },
            "volumes[1].mountPath",
        ),
        (
            {"volumes": [{"claimName": "c", "mountPath": "/d", "subPath": "a/../b"}]},
            "volumes[0].subPath",
        ),
        ({"placement": {"gpuProduct": "NVIDIA-A100"}}, "placement.gpuProduct"),
        (
            {"placement": {"nodeSelector": {GPU_PRODUCT_LABEL: "x"}}, "resources": {"gpu": 1}},
            "placement.nodeSelector",
        ),
        ({"placement": {"nodeSelector": {"pool": "bad value!"}}}, "placement.nodeSelector"),
    ],
)
def test_bad_input_is_refused_naming_the_field(extra: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        spec(**extra)
    assert where in str(caught.value)


@pytest.mark.parametrize(
    "extra",
    [
        {"env": [{"name": "1X", "value": "1"}]},
        {"volumes": [{"claimName": "c", "mountPath": "relative"}]},
        {"envFrom": [{"secretRef": {"name": "Not_A_Name"}}]},
    ],
)
def test_the_patterns_refuse_malformed_names(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        spec(**extra)


@pytest.mark.parametrize(
    "ref",
    [
        {"secretKeyRef": {"name": "aijob-user-a", "key": "k", "namespace": "tenant-a"}},
    ],
)
def test_a_secret_of_another_namespace_cannot_even_be_written(ref: dict[str, Any]) -> None:
    """Same namespace only by construction: a reference has a name, and nowhere to put a
    namespace (unknown fields are refused), so the pod reaches its own namespace's only."""
    with pytest.raises(ValidationError, match="namespace"):
        spec(env=[{"name": "T", "valueFrom": ref}])
    with pytest.raises(ValidationError, match="namespace"):
        spec(envFrom=[{"secretRef": {"name": "aijob-user-a", "namespace": "tenant-a"}}])
    with pytest.raises(ValidationError, match="namespace"):
        spec(volumes=[{"claimName": "aijob-user-a", "mountPath": "/d", "namespace": "a"}])


ALLOWED = TenantResources()


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        (
            {"env": [secret_var("T", "aijob-storage", "AWS_SECRET_ACCESS_KEY")]},
            "spec.env[0].valueFrom.secretKeyRef.name",
            "store credentials",
        ),
        (
            {"envFrom": [{"secretRef": {"name": "aijob-storage"}}]},
            "spec.envFrom[0].secretRef.name",
            "store credentials",
        ),
        (
            {"envFrom": [{"secretRef": {"name": "db-password"}}]},
            "spec.envFrom[0].secretRef.name",
            "tenantResources.secrets",
        ),
        (
            {"volumes": [{"claimName": "team-data", "mountPath": "/data"}]},
            "spec.volumes[0].claimName",
            "tenantResources.volumes",
        ),
    ],
)
def test_the_allow_list_refuses_naming_the_field(
    extra: dict[str, Any], field: str, words: str
) -> None:
    found = spec_resource_problem(spec(**extra), ALLOWED)
    assert found is not None
    assert found[0] == field
    assert found[1].startswith(f"{field}: ")
    assert words in found[1]


def test_the_allow_list_takes_the_admins_globs_but_never_the_store_secret() -> None:
    wide = TenantResources(secrets=("*",), volumes=("team-*",), reserved_claims=frozenset({"arts"}))
    assert spec_resource_problem(spec(envFrom=[{"secretRef": {"name": "db"}}]), wide) is None
    storage = spec(envFrom=[{"secretRef": {"name": "aijob-storage"}}])
    assert spec_resource_problem(storage, wide) is not None
    team = spec(volumes=[{"claimName": "team-data", "mountPath": "/data"}])
    assert spec_resource_problem(team, wide) is None
    arts = spec(volumes=[{"claimName": "arts", "mountPath": "/data"}])
    found = spec_resource_problem(
        arts, TenantResources(volumes=("*",), reserved_claims=frozenset({"arts"}))
    )
    assert found is not None
    assert "aijob's own" in found[1]


def test_allowed_names_pass() -> None:
    allowed = spec(
        env=[secret_var("T", "aijob-user-creds")],
        envFrom=[{"secretRef": {"name": "aijob-user-env"}}],
        volumes=[{"claimName": "aijob-user-data", "mountPath": "/data"}],
    )
    assert spec_resource_problem(allowed, ALLOWED) is None
