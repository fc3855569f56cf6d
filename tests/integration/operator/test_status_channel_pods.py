"""The status channel on a real API server, operator in-process: a job's pod holds no API
token and the operator makes no per-job identity (one write, the Job, after the AIJob)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from aijob_api.conditions import Phase
from aijob_api.status_report import STATUS_AUDIENCE, TOKEN_FILE_NAME, TOKEN_MOUNT_DIR
from aijob_operator.builders.meta import identity_name
from lightkube import ApiError, Client
from lightkube.resources.core_v1 import ServiceAccount
from lightkube.resources.rbac_authorization_v1 import Role, RoleBinding

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout

URL = "https://10.96.200.1:8443"
SERVER_NAME = "aijob-operator-status.aijob-system.svc"


@pytest.fixture
def channel_on(
    operator_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The operator's settings with the channel on (its server off: no certificate); the CA."""
    ca = tmp_path / "ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         str(tmp_path / "ca.key"), "-out", str(ca), "-days", "1", "-subj", "/CN=test-ca"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("AIJOB_OPERATOR_STATUS_CHANNEL", "true")
    monkeypatch.setenv("AIJOB_OPERATOR_STATUS_URL", URL)
    monkeypatch.setenv("AIJOB_OPERATOR_STATUS_SERVER_NAME", SERVER_NAME)
    monkeypatch.setenv("AIJOB_OPERATOR_STATUS_CA_FILE", str(ca))
    return ca.read_text()


def _absent(kube: Client, kind: type[ServiceAccount] | type[Role] | type[RoleBinding],
            namespace: str, name: str) -> bool:  # fmt: skip
    try:
        kube.get(kind, name, namespace=namespace)
    except ApiError as error:
        return error.status.code == 404
    return False


@pytest.mark.usefixtures("channel_on", "operator")  # the settings first, then the operator
def test_on_the_channel_a_job_gets_no_identity_and_its_pod_no_api_token(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    aijobs.create(
        manifest("chan", namespace, podTemplate=simulated({"aijob.dev/fake-run-seconds": "2"}))
    )
    aijobs.wait_phase("chan", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    job = aijobs.job("chan")
    assert job is not None
    assert job.spec is not None
    pod = job.spec.template.spec
    assert pod is not None
    assert pod.automountServiceAccountToken is False
    assert pod.serviceAccountName is None
    (volume,) = [v for v in pod.volumes or [] if v.projected is not None]
    assert volume.projected is not None
    (source,) = volume.projected.sources or []
    token = source.serviceAccountToken
    assert token is not None
    assert (token.audience, token.path) == (STATUS_AUDIENCE, TOKEN_FILE_NAME)
    (container,) = pod.containers
    env = {item.name: item.value for item in container.env or []}
    assert env["AIJOB_STATUS_URL"] == URL
    assert env["AIJOB_STATUS_SERVER_NAME"] == SERVER_NAME
    assert env["AIJOB_STATUS_CA"] == Path(os.environ["AIJOB_OPERATOR_STATUS_CA_FILE"]).read_text()
    assert env["AIJOB_STATUS_TOKEN_FILE"] == f"{TOKEN_MOUNT_DIR}/{TOKEN_FILE_NAME}"
    for kind in (ServiceAccount, Role, RoleBinding):
        assert _absent(kube, kind, namespace, identity_name("chan")), kind.__name__
