"""The gateway's part of the chart, rendered offline: its limits reach settings the gateway
parses, TLS from a kubernetes.io/tls Secret (files, probes, helm test, scrape), and the
schema refusing bad limits by name."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_gateway.settings import GatewaySettings

from tests.support.helm import CHART, run_helm
from tests.unit.helm.test_chart import container, needs_helm, render

GATEWAY = "aijob-gateway"


def plain_env(gateway: dict[str, Any]) -> dict[str, str]:
    """The container's env given as values (not valueFrom), by name."""
    return {env["name"]: env["value"] for env in gateway["env"] if "value" in env}


def settings_of(gateway: dict[str, Any]) -> GatewaySettings:
    """The settings the gateway would read from the rendered environment."""
    fields = {
        name.removeprefix("AIJOB_GATEWAY_").lower(): value
        for name, value in plain_env(gateway).items()
    }
    return GatewaySettings.model_validate(fields)


def document(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


@needs_helm
def test_default_limits_reach_the_gateways_settings() -> None:
    settings = settings_of(container(render(), GATEWAY))
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.inference_max_body_bytes == 16 * 1024 * 1024
    assert settings.client_rate_limit_per_second == 1000
    assert settings.client_rate_limit_burst == 2000
    assert settings.forwarded_allow_ips == "127.0.0.1"
    assert (settings.log_streams_per_key, settings.log_streams_total) == (4, 64)
    assert settings.logs_max_bytes == 8 * 1024 * 1024
    assert settings.keys_stale_after_seconds == 30
    assert settings.tls_cert_file is None


@needs_helm
def test_changed_limits_reach_the_gateways_settings() -> None:
    gateway = container(
        render(
            "--set",
            "gateway.maxBodyBytes=2097152",
            "--set",
            "gateway.clientRateLimit.perSecond=50",
            "--set",
            "gateway.trustedProxies={10.0.0.0/8,192.168.1.7}",
            "--set",
            "gateway.logs.streamsPerKey=2",
            "--set",
            "gateway.logs.maxBytes=65536",
            "--set",
            "gateway.keysStaleAfterSeconds=5",
        ),
        GATEWAY,
    )
    settings = settings_of(gateway)
    assert settings.max_body_bytes == 2 * 1024 * 1024
    assert settings.client_rate_limit_per_second == 50
    assert settings.forwarded_allow_ips == "10.0.0.0/8,192.168.1.7"
    assert settings.log_streams_per_key == 2
    assert settings.logs_max_bytes == 65536
    assert settings.keys_stale_after_seconds == 5


@needs_helm
def test_plain_http_without_a_tls_secret() -> None:
    documents = render()
    gateway = container(documents, GATEWAY)
    assert {probe["httpGet"]["scheme"] for probe in probes(gateway)} == {"HTTP"}
    pod = document(documents, "Deployment", GATEWAY)["spec"]["template"]["spec"]
    assert [volume["name"] for volume in pod["volumes"]] == ["tmp"]
    check = document(documents, "Pod", "aijob-test-gateway")["spec"]["containers"][0]
    assert 'scheme = "http"' in check["command"][2]


def probes(gateway: dict[str, Any]) -> list[dict[str, Any]]:
    return [gateway["readinessProbe"], gateway["livenessProbe"]]


@needs_helm
def test_tls_from_a_secret_serves_https_probes_and_checks_included() -> None:
    documents = render(
        "--set",
        "gateway.tls.secretName=gateway-tls",
        "--set",
        "monitoring.serviceMonitor.enabled=true",
    )
    gateway = container(documents, GATEWAY)
    settings = settings_of(gateway)
    assert settings.tls_cert_file == "/etc/aijob/tls/tls.crt"
    assert settings.tls_key_file == "/etc/aijob/tls/tls.key"
    (mount,) = [m for m in gateway["volumeMounts"] if m["name"] == "tls"]
    assert mount == {"name": "tls", "mountPath": "/etc/aijob/tls", "readOnly": True}
    pod = document(documents, "Deployment", GATEWAY)["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "tls"]
    assert volume["secret"]["secretName"] == "gateway-tls"
    assert {item["key"] for item in volume["secret"]["items"]} == {"tls.crt", "tls.key"}
    assert {probe["httpGet"]["scheme"] for probe in probes(gateway)} == {"HTTPS"}
    check = document(documents, "Pod", "aijob-test-gateway")["spec"]["containers"][0]
    assert 'scheme = "https"' in check["command"][2]
    monitor = document(documents, "ServiceMonitor", GATEWAY)
    assert monitor["spec"]["endpoints"][0]["scheme"] == "https"
    operator_monitor = document(documents, "ServiceMonitor", "aijob-operator-metrics")
    assert "scheme" not in operator_monitor["spec"]["endpoints"][0]


@needs_helm
@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("gateway.maxBodyBytes=100", "maxBodyBytes"),
        ("gateway.inferenceMaxBodyBytes=0", "inferenceMaxBodyBytes"),
        ("gateway.clientRateLimit.perSecond=0", "perSecond"),
        ("gateway.clientRateLimit.burts=3", "burts"),
        ("gateway.trustedProxies={example.com}", "trustedProxies"),
        ("gateway.logs.streamsPerKey=0", "streamsPerKey"),
        ("gateway.logs.streamsTotal=500", "streamsTotal"),
        ("gateway.logs.maxBytes=10", "maxBytes"),
        ("gateway.keysStaleAfterSeconds=0", "keysStaleAfterSeconds"),
        ("gateway.tls.secretName=Not_A_Name", "secretName"),
        ("gateway.tls.cert=x", "cert"),
    ],
)
def test_schema_rejects_bad_gateway_limits_naming_the_field(setting: str, named: str) -> None:
    result = run_helm("template", "aijob", str(CHART), "--set", setting)
    assert result.returncode != 0, f"{setting} was accepted"
    assert "values don't meet the specifications of the schema" in result.stderr
    assert named in result.stderr


@needs_helm
def test_the_operators_storage_settings_reach_the_gateway() -> None:
    default = settings_of(container(render(), GATEWAY))
    assert default.tenant_store("team-a").uri == "s3://aijob-team-a/"
    changed = settings_of(
        container(render("--set", "workers.storage.s3.bucketTemplate=ml-{namespace}"), GATEWAY)
    )
    assert changed.tenant_store("team-a").uri == "s3://ml-team-a/"
    host_path = settings_of(container(render("--set", "workers.storage.mode=hostPath"), GATEWAY))
    assert host_path.tenant_store("team-a").uri == "file:///var/lib/aijob/artifacts/team-a/"
