"""Worker pods on the status channel: no API token, the audience-bound one, the variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aijob_api.environment import mount_path_problem
from aijob_api.status_report import (
    STATUS_AUDIENCE,
    TOKEN_EXPIRATION_SECONDS,
    TOKEN_FILE_NAME,
    TOKEN_MOUNT_DIR,
)
from aijob_operator.builders.endpoint_deployment import build_deployment
from aijob_operator.builders.job import PodSettings, build_job
from aijob_operator.builders.pod import job_pod_settings, pod_settings
from aijob_operator.builders.status_channel import (
    STATUS_TOKEN_VOLUME,
    WorkerChannel,
    worker_channel,
)
from aijob_operator.catalog import load_catalog
from aijob_operator.config import OperatorConfig

from tests.unit.operator.endpoint_factories import target
from tests.unit.operator.factories import GROUP_SPEC, aijob

CATALOG = load_catalog()
BASE = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}
CHANNEL = WorkerChannel(
    "https://10.96.0.20:8443",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "aijob-status.aijob-system.svc",
)


def pod(spec: dict[str, Any], channel: WorkerChannel | None) -> dict[str, Any]:
    job = aijob("train", spec=spec)
    runtime = CATALOG.resolve_for(job.spec)
    nodes = (spec.get("distributed") or {}).get("nodes", 1)
    addresses = [f"10.0.0.{10 + rank}" for rank in range(nodes)] if nodes > 1 else ()
    settings = PodSettings(status_channel=channel)
    built = build_job(job, runtime, settings, addresses=addresses).to_dict()
    template: dict[str, Any] = built["spec"]["template"]["spec"]
    return template


def env(spec: dict[str, Any]) -> dict[str, str]:
    (container,) = spec["containers"]
    return {item["name"]: item.get("value") for item in container["env"]}


@pytest.mark.parametrize("spec", [BASE, GROUP_SPEC], ids=["one pod", "group"])
def test_on_the_channel_a_worker_has_no_api_token_only_the_audience_bound_one(
    spec: dict[str, Any],
) -> None:
    template = pod(spec, CHANNEL)
    assert template["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in template  # the namespace's default, no per-job one
    (volume,) = [v for v in template["volumes"] if v["name"] == STATUS_TOKEN_VOLUME]
    assert volume["projected"]["sources"] == [
        {
            "serviceAccountToken": {
                "audience": STATUS_AUDIENCE,
                "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                "path": TOKEN_FILE_NAME,
            }
        }
    ]
    (container,) = template["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == STATUS_TOKEN_VOLUME]
    assert mount == {"name": STATUS_TOKEN_VOLUME, "mountPath": TOKEN_MOUNT_DIR, "readOnly": True}
    assert not any(m["mountPath"].startswith("/var/run/secrets/kubernetes.io") for m in
                   container["volumeMounts"])  # fmt: skip
    variables = env(template)
    assert variables["AIJOB_STATUS_URL"] == CHANNEL.url
    assert variables["AIJOB_STATUS_CA"] == CHANNEL.ca_pem
    assert variables["AIJOB_STATUS_SERVER_NAME"] == CHANNEL.server_name
    assert variables["AIJOB_STATUS_TOKEN_FILE"] == f"{TOKEN_MOUNT_DIR}/{TOKEN_FILE_NAME}"
    assert "AIJOB_UID" in variables
    assert "AIJOB_POD_NAME" in variables


def test_without_the_channel_the_worker_keeps_its_own_identity() -> None:
    template = pod(BASE, None)
    assert template["automountServiceAccountToken"] is True
    assert template["serviceAccountName"] == "train-aijob-worker"
    assert all(v["name"] != STATUS_TOKEN_VOLUME for v in template["volumes"])
    assert not {name for name in env(template) if name.startswith("AIJOB_STATUS_")}


def test_a_job_cannot_set_the_channels_variables_or_shadow_its_token() -> None:
    spec = {**BASE, "env": [{"name": "AIJOB_STATUS_URL", "value": "https://evil:1"}]}
    with pytest.raises(ValueError, match="AIJOB_STATUS_URL"):
        aijob("train", spec=spec)
    for path in (TOKEN_MOUNT_DIR, "/var/run/secrets", f"{TOKEN_MOUNT_DIR}/x"):
        assert mount_path_problem(path) is not None, path


def test_model_server_pods_mount_no_token_either_way() -> None:
    for channel in (None, CHANNEL):
        built = build_deployment(target(settings=PodSettings(status_channel=channel))).to_dict()
        template = built["spec"]["template"]["spec"]
        assert template["automountServiceAccountToken"] is False
        assert all(v["name"] != STATUS_TOKEN_VOLUME for v in template.get("volumes", []))
        assert not {name for name in env(template) if name.startswith("AIJOB_STATUS_")}


def test_the_channel_from_the_settings_or_the_start_up(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(CHANNEL.ca_pem or "")
    assert worker_channel(OperatorConfig(), CHANNEL) is None  # off: workers patch themselves
    assert job_pod_settings(OperatorConfig()).status_channel is None
    config = OperatorConfig(
        status_channel=True,
        status_url="https://10.96.0.20:8443/",
        status_service="aijob-status",
        status_ca_file=ca,
        own_namespace="aijob-system",
    )
    assert job_pod_settings(config).status_channel == CHANNEL
    assert pod_settings(config).status_channel is None  # model servers, the janitor
    resolved = WorkerChannel("https://10.0.0.1:8443", CHANNEL.ca_pem, "status.example")
    on = OperatorConfig(status_channel=True)
    assert job_pod_settings(on, resolved).status_channel is resolved
    assert pod_settings(on).status_channel is None  # nothing resolved: no error here
    with pytest.raises(ValueError, match="status_url"):
        worker_channel(OperatorConfig(status_channel=True, status_ca_file=ca))
    with pytest.raises(ValueError, match="status_ca_file"):
        worker_channel(OperatorConfig(status_channel=True, status_url="https://10.0.0.1:8443"))
    with pytest.raises(ValueError, match="status_ca_file"):
        worker_channel(on, WorkerChannel("https://10.0.0.1:8443", None))
