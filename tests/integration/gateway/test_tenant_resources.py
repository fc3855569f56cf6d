"""The gateway refuses at submission (422 naming the field, nothing created) a job naming a
Secret or a claim the operator's allow-list refuses, by the operator's own rule
(aijob_api.tenant_resources), and accepts the ones it allows."""

from __future__ import annotations

from typing import Any

import httpx
from lightkube import Client

from tests.support.gateway import list_aijobs

TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {"type": "random_forest"},
    "dataset": {"name": "iris"},
}


def _secret_env(secret: str) -> dict[str, Any]:
    return {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}}


def test_secrets_and_claims_outside_the_allow_list_are_refused(
    api: httpx.Client, namespace: str, kube: Client
) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"envFrom": [{"secretRef": {"name": "aijob-storage"}}]},
            "spec.envFrom[0].secretRef.name",
            "store credentials",
        ),
        (
            {"env": [_secret_env("aijob-storage")]},
            "spec.env[0].valueFrom.secretKeyRef.name",
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
    ]
    for extra, field, reason in cases:
        response = api.post("/v1/jobs", json={"name": "refused", "spec": {**TRAINING, **extra}})
        assert response.status_code == 422, (field, response.text)
        problem = response.json()
        assert problem["field"] == field, problem
        assert problem["detail"].startswith(f"{field}: "), problem
        assert reason in problem["detail"], problem
    assert list_aijobs(kube, namespace) == []


def test_bad_env_and_mount_paths_are_refused_naming_the_field(api: httpx.Client) -> None:
    for extra, where in [
        ({"env": [{"name": "AIJOB_NAME", "value": "x"}]}, "env[0].name"),
        ({"volumes": [{"claimName": "aijob-user-d", "mountPath": "/tmp/x"}]}, "mountPath"),
    ]:
        response = api.post("/v1/jobs", json={"spec": {**TRAINING, **extra}})
        assert response.status_code == 422, response.text
        assert where in response.text


def test_allowed_secrets_and_claims_are_accepted(
    api: httpx.Client, namespace: str, kube: Client
) -> None:
    extra = {
        "env": [_secret_env("aijob-user-creds")],
        "envFrom": [{"secretRef": {"name": "aijob-user-env"}}],
        "volumes": [{"claimName": "aijob-user-data", "mountPath": "/data"}],
    }
    response = api.post("/v1/jobs", json={"name": "allowed", "spec": {**TRAINING, **extra}})
    assert response.status_code in (200, 201), response.text
    (created,) = list_aijobs(kube, namespace)
    assert created["spec"]["envFrom"] == [{"secretRef": {"name": "aijob-user-env"}}]
    assert created["spec"]["volumes"][0]["readOnly"] is True
