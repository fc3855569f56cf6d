"""How the real `aijob` command reaches the gateway: never plain http to another host unless
told to; https to a gateway with its own CA, verified with --ca-file or AIJOB_CA_FILE."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aijob_cli.exitcodes import ExitCode
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.cluster import ClusterInfo
from tests.support.gateway import RunningGateway, TenantKey, mint_tenant_key, start_gateway
from tests.support.tls import TlsPair, self_signed_pair

AIJOB = str(Path(sys.executable).parent / "aijob")


def aijob(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIJOB, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def user_env(url: str, key: str, tmp_path: Path) -> dict[str, str]:
    """A user's environment: the gateway's URL and a key, no config file, no CA."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIJOB_")}
    return {
        **clean,
        "AIJOB_GATEWAY_URL": url,
        "AIJOB_API_KEY": key,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "COLUMNS": "200",
    }


def test_plain_http_to_another_host_is_refused_unless_insecure(
    gateway: RunningGateway, tenant: TenantKey, tmp_path: Path
) -> None:
    # The loopback gateway is fine over http.
    assert aijob(user_env(gateway.url, tenant.key, tmp_path), "list").returncode == 0
    remote = user_env("http://gateway.invalid:8000", tenant.key, tmp_path)
    refused = aijob(remote, "list")
    assert refused.returncode == ExitCode.CONFIG
    message = " ".join(refused.stderr.split())
    assert "refusing to send the API key over plain http to gateway.invalid" in message
    assert "--insecure" in message
    # Told to, it tries (the name does not resolve: unreachable, not refused).
    for allowed in (
        aijob(remote, "--insecure", "list"),
        aijob({**remote, "AIJOB_INSECURE": "1"}, "list"),
    ):
        assert allowed.returncode == ExitCode.UNAVAILABLE, allowed.stderr
        assert "cannot reach the gateway" in allowed.stderr


@pytest.fixture
def https_gateway(
    cluster: ClusterInfo, kube: Client, aijob_crd: str, tmp_path: Path
) -> Iterator[tuple[RunningGateway, TlsPair]]:
    pair = self_signed_pair(tmp_path)
    namespace = f"gw-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"aijob.dev/test": "true"})))
    server, running = start_gateway(
        cluster,
        namespace,
        verify=ssl.create_default_context(cafile=pair.cert),
        tls_cert_file=str(pair.cert),
        tls_key_file=str(pair.key),
    )
    try:
        yield running, pair
    finally:
        server.stop()
        kube.delete(Namespace, namespace)


def test_https_verified_with_a_ca_file(
    https_gateway: tuple[RunningGateway, TlsPair], namespace: str, tmp_path: Path
) -> None:
    gateway, pair = https_gateway
    key = mint_tenant_key(gateway, namespace)
    env = user_env(gateway.url, key.key, tmp_path)
    untrusted = aijob(env, "list")
    assert untrusted.returncode == ExitCode.UNAVAILABLE
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    assert "--ca-file" in " ".join(untrusted.stderr.split())
    submitted = aijob(
        env, "--ca-file", str(pair.cert), "submit", "--model-type", "svm", "--dataset", "iris"
    )
    assert submitted.returncode == 0, submitted.stderr
    name = submitted.stdout.strip()
    by_env = aijob({**env, "AIJOB_CA_FILE": str(pair.cert)}, "get", name)
    assert by_env.returncode == 0, by_env.stderr
    assert name in by_env.stdout
    localhost = {**env, "AIJOB_GATEWAY_URL": gateway.url.replace("127.0.0.1", "localhost")}
    assert aijob(localhost, "--ca-file", str(pair.cert), "list").returncode == 0
    missing = aijob(env, "--ca-file", str(tmp_path / "nowhere.pem"), "list")
    assert missing.returncode == ExitCode.CONFIG
    assert "does not exist" in missing.stderr
