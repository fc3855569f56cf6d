"""`aijob endpoints ...` and `aijob predict` against a real gateway, API server and model server.

The endpoint's replica is a Pod object pointing at the local model server (see
tests/support/model_server.py), so `aijob predict` goes through the gateway's real
dispatch to a real model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from aijob_cli.exitcodes import ExitCode
from aijob_kube.resources import AIEndpointResource
from lightkube import Client

from tests.support.gateway import RunningGateway, TenantKey
from tests.support.model_server import SETOSA, VIRGINICA, LocalModelServer, ready_replica
from tests.support.prerequisites import REPO_ROOT

AIJOB = str(Path(sys.executable).parent / "aijob")

EXAMPLE = REPO_ROOT / "examples" / "endpoint-sklearn.yaml"
"""The sklearn endpoint the docs show: iris, two replicas, concurrency 16, priority high."""


@pytest.fixture
def env(gateway: RunningGateway, tenant: TenantKey, tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose gateway URL and key are set."""
    return {
        **os.environ,
        "AIJOB_GATEWAY_URL": gateway.url,
        "AIJOB_API_KEY": tenant.key,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "COLUMNS": "200",
    }


def aijob(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIJOB, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_create_list_get_and_delete(env: dict[str, str], tenant: TenantKey, kube: Client) -> None:
    created = aijob(env, "endpoints", "create", "-f", str(EXAMPLE))
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "iris"
    stored = dict(kube.get(AIEndpointResource, "iris", namespace=tenant.namespace))
    assert stored["spec"]["priority"] == "high"
    assert stored["spec"]["batching"] == {"maxBatchSize": 32, "maxWaitMilliseconds": 5}

    listed = aijob(env, "endpoints", "list")
    assert listed.returncode == 0, listed.stderr
    assert "iris" in listed.stdout
    assert "iris-forest" in listed.stdout
    assert "0/2" in listed.stdout
    shown = aijob(env, "endpoints", "get", "iris")
    assert shown.returncode == 0, shown.stderr
    assert "16 per replica" in shown.stdout
    assert "up to 32 records, 5 ms wait" in shown.stdout
    as_json = json.loads(aijob(env, "endpoints", "get", "iris", "--json").stdout)
    assert as_json["spec"]["requestTimeoutSeconds"] == 10

    deleted = aijob(env, "endpoints", "delete", "iris")
    assert deleted.returncode == 0, deleted.stderr
    missing = aijob(env, "endpoints", "get", "iris")
    assert missing.returncode == ExitCode.NOT_FOUND
    assert "iris" in missing.stderr


def test_a_bad_manifest_is_refused_locally_naming_the_field(
    env: dict[str, str], tenant: TenantKey, kube: Client, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(EXAMPLE.read_text().replace("replicas: 2", "replicas: 0"))
    refused = aijob(env, "endpoints", "create", "-f", str(path))
    assert refused.returncode == ExitCode.INVALID
    assert "spec.replicas" in refused.stderr
    unreadable = aijob(env, "endpoints", "create", "-f", str(tmp_path / "none.yaml"))
    assert unreadable.returncode == ExitCode.CONFIG
    assert list(kube.list(AIEndpointResource, namespace=tenant.namespace)) == []


def test_predict_prints_outputs_and_latency_and_monitor_shows_the_load(
    env: dict[str, str],
    api: httpx.Client,
    tenant: TenantKey,
    kube: Client,
    model_server: LocalModelServer,
    tmp_path: Path,
) -> None:
    assert aijob(env, "endpoints", "create", "-f", str(EXAMPLE)).returncode == 0
    ready_replica(kube, api, tenant.namespace, "iris-0", model_server.port)

    predicted = aijob(
        env, "predict", "iris", "--record", json.dumps(SETOSA), "-r", "[6.9, 3.1, 5.4, 2.1]"
    )
    assert predicted.returncode == 0, predicted.stderr
    assert "setosa" in predicted.stdout
    assert "virginica" in predicted.stdout
    assert "latency" in predicted.stdout
    assert "on pod iris-0" in predicted.stdout

    records = tmp_path / "records.json"
    records.write_text(json.dumps({"records": [VIRGINICA]}))
    answer = json.loads(aijob(env, "predict", "iris", "-f", str(records), "--json").stdout)
    assert answer["outputs"][0]["prediction"] == "virginica"
    assert answer["pod"] == "iris-0"

    bad = aijob(env, "predict", "iris", "--record", "[5.1, 3.5]")
    assert bad.returncode == ExitCode.INVALID
    assert "records[0]" in bad.stderr
    not_json = aijob(env, "predict", "iris", "--record", "[5.1,")
    assert not_json.returncode == ExitCode.INVALID
    assert "--record 1" in not_json.stderr
    unknown = aijob(env, "predict", "wine", "--record", json.dumps(SETOSA))
    assert unknown.returncode == ExitCode.NOT_FOUND

    monitored = aijob(env, "endpoints", "monitor", "--once")
    assert monitored.returncode == 0, monitored.stderr
    row = next(line for line in monitored.stdout.splitlines() if "iris" in line)
    assert "1 ready / 2" in row
    cells = row.split("│") if "│" in row else row.split()
    assert [cell.strip() for cell in cells][8:11] == ["3", "0", "0"], row
