"""The status server's reading of TokenReviews, and its cache of them (an injected clock);
the settings and the channel told to pods."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aijob_api.status_report import (
    ENV_STATUS_CA,
    ENV_STATUS_SERVER_NAME,
    ENV_STATUS_URL,
    STATUS_AUDIENCE,
)
from aijob_operator.config import OperatorConfig
from aijob_operator.status_channel import channel_of, url_of_service
from aijob_operator.status_tokens import (
    NEGATIVE_SECONDS,
    PodIdentity,
    TokenCache,
    identity_of,
    token_expiry,
)
from pydantic import ValidationError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def review(**changes: Any) -> dict[str, Any]:
    status: dict[str, Any] = {
        "authenticated": True,
        "audiences": [STATUS_AUDIENCE],
        "user": {
            "username": "system:serviceaccount:team-a:job-x",
            "extra": {
                "authentication.kubernetes.io/pod-name": ["x-0-abc"],
                "authentication.kubernetes.io/pod-uid": ["uid-1"],
            },
        },
    }
    status.update(changes)
    return status


def test_a_pod_bound_token_names_its_pod() -> None:
    assert identity_of(review()) == PodIdentity("team-a", "job-x", "x-0-abc", "uid-1")


@pytest.mark.parametrize(
    "changes",
    [
        {"authenticated": False},
        {"audiences": ["https://kubernetes.default.svc"]},
        {"audiences": None},
        {"user": {"username": "alice", "extra": {}}},
        {"user": {"username": "system:serviceaccount:team-a:job-x", "extra": {}}},
    ],
    ids=["unauthenticated", "another-audience", "no-audience", "a-person", "not-pod-bound"],
)
def test_anything_else_is_no_identity(changes: dict[str, Any]) -> None:
    assert identity_of(review(**changes)) is None


def jwt(claims: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.signature"


def test_the_expiry_is_read_from_the_token() -> None:
    assert token_expiry(jwt({"exp": 1234})) == 1234.0
    assert token_expiry("not-a-jwt") is None
    assert token_expiry(jwt({"sub": "x"})) is None


def test_an_identity_is_cached_until_the_token_expires_or_the_bound() -> None:
    clock = Clock()
    cache = TokenCache(size=10, cache_seconds=300, clock=clock)
    who = PodIdentity("ns", "sa", "pod", "uid")
    cache.put("short", who, left=60)
    cache.put("long", who, left=3600)
    clock.now = 59
    assert cache.get("short") == (True, who)
    clock.now = 60
    assert cache.get("short") == (False, None)  # its exp
    clock.now = 299
    assert cache.get("long") == (True, who)
    clock.now = 300
    assert cache.get("long") == (False, None)  # the bound
    cache.put("expired", who, left=-1)
    assert cache.get("expired") == (False, None)


def test_a_refusal_is_cached_briefly() -> None:
    clock = Clock()
    cache = TokenCache(size=10, cache_seconds=300, clock=clock)
    cache.put("bad", None, left=3600)
    assert cache.get("bad") == (True, None)
    clock.now = NEGATIVE_SECONDS
    assert cache.get("bad") == (False, None)


def test_the_cache_keeps_at_most_its_size_least_recent_out() -> None:
    cache = TokenCache(size=2, cache_seconds=300, clock=Clock())
    who = PodIdentity("ns", "sa", "pod", "uid")
    cache.put("a", who, None)
    cache.put("b", who, None)
    cache.get("a")
    cache.put("c", who, None)
    assert len(cache) == 2
    assert cache.get("b") == (False, None)
    assert cache.get("a") == (True, who)
    cache.put("secret-token", who, None)
    assert all("secret" not in key for key in cache._entries)  # only digests are kept


def test_the_server_runs_with_a_certificate_and_its_key_together(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert not OperatorConfig().status_server_enabled
    monkeypatch.setenv("AIJOB_OPERATOR_STATUS_TLS_CERT_FILE", str(tmp_path / "tls.crt"))
    with pytest.raises(ValidationError, match="set together"):
        OperatorConfig()
    monkeypatch.setenv("AIJOB_OPERATOR_STATUS_TLS_KEY_FILE", str(tmp_path / "tls.key"))
    config = OperatorConfig()
    assert config.status_server_enabled
    assert (config.status_port, config.status_channel) == (8443, False)


def test_the_channel_told_to_pods(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = OperatorConfig(status_service="aijob-status", status_ca_file=ca)
    channel = channel_of(config, "aijob-system", "https://10.96.0.7:8443/")
    assert channel is not None
    assert channel.env() == {
        ENV_STATUS_URL: "https://10.96.0.7:8443",
        ENV_STATUS_SERVER_NAME: "aijob-status.aijob-system.svc",
        ENV_STATUS_CA: "-----BEGIN CERTIFICATE-----\n",
    }
    assert channel_of(config, "aijob-system", None) is None
    named = OperatorConfig(status_server_name="status.example")
    assert channel_of(named, None, "https://h:1") is not None
    assert channel_of(named, None, "https://h:1").server_name == "status.example"  # type: ignore[union-attr]


def test_a_services_address() -> None:
    service = {"spec": {"clusterIP": "10.96.0.7", "ports": [{"name": "https", "port": 443}]}}
    assert url_of_service(service) == "https://10.96.0.7:443"
    assert url_of_service({"spec": {"clusterIP": "fd00::7", "ports": [{"port": 1}]}}) == (
        "https://[fd00::7]:1"
    )
    assert url_of_service({"spec": {"clusterIP": "None", "ports": [{"port": 1}]}}) is None
    with pytest.raises(ValidationError):
        OperatorConfig(status_url="http://plain:80")
