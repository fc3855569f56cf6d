"""The chart's status channel: the Service in front of the operators, its generated TLS, the
operator's settings; nothing of it when the channel is off."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from tests.support.helm import helm_binary
from tests.unit.helm.test_rbac import NAMESPACE, one, render

pytestmark = pytest.mark.skipif(
    helm_binary() is None, reason="helm is not built (make binaries builds it with the cluster)"
)
SERVICE = "aijob-operator-status"


def test_the_channel_has_a_service_a_certificate_for_its_names_and_the_operators_settings(
    tmp_path: Path,
) -> None:
    documents = render("--set", "operator.statusChannel.enabled=true")
    service = one(documents, "Service", SERVICE)
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (8443, "status")
    operator = one(documents, "Deployment", "aijob-operator")
    assert service["spec"]["selector"] == operator["spec"]["selector"]["matchLabels"]
    pod = operator["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["AIJOB_OPERATOR_STATUS_CHANNEL"] == "true"
    assert env["AIJOB_OPERATOR_STATUS_SERVICE"] == SERVICE
    assert env["AIJOB_OPERATOR_STATUS_PORT"] == "8443"
    mount = next(m for m in container["volumeMounts"] if m["name"] == "status-tls")
    assert mount["readOnly"] is True
    for name in ("TLS_CERT_FILE", "TLS_KEY_FILE", "CA_FILE"):
        assert env[f"AIJOB_OPERATOR_STATUS_{name}"].startswith(mount["mountPath"] + "/")
    assert {"name": "status", "containerPort": 8443} in container["ports"]
    secret = one(documents, "Secret", f"{SERVICE}-tls")
    assert secret["type"] == "kubernetes.io/tls"
    files = {}
    for key in ("ca.crt", "tls.crt", "tls.key"):
        files[key] = tmp_path / key
        files[key].write_bytes(base64.b64decode(secret["data"][key]))
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(files["ca.crt"]), str(files["tls.crt"])],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    names = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(files["tls.crt"])],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert f"DNS:{SERVICE}.{NAMESPACE}.svc" in names
    assert f"DNS:{SERVICE}.{NAMESPACE}.svc.cluster.local" in names


def test_on_by_default() -> None:
    operator = one(render(), "Deployment", "aijob-operator")
    (container,) = operator["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["AIJOB_OPERATOR_STATUS_CHANNEL"] == "true"


def test_off_there_is_no_channel() -> None:
    documents = render("--set", "operator.statusChannel.enabled=false")
    assert not [d for d in documents if d["metadata"]["name"].startswith(SERVICE)]
    operator = one(documents, "Deployment", "aijob-operator")
    (container,) = operator["spec"]["template"]["spec"]["containers"]
    assert not [e for e in container["env"] if e["name"].startswith("AIJOB_OPERATOR_STATUS_")]
