"""The status channel on the real node: workers hold no Kubernetes credentials.

With `operator.statusChannel.enabled` (skipped otherwise), a real training job's worker
reports progress and results to the operator's status server and the job succeeds, with no
per-job ServiceAccount, Role or RoleBinding, and a pod that mounts no API token. A job's own
code then probes what its pod's credentials can do (`PROBE`, run as `spec.code` with the
worker's environment and nothing more): the projected token, whose audience is aijob's, is
refused by the API server for its own AIJob's status, another AIJob's, and any list; and the
status server refuses its report for another job (403) and one with no token (401).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aijob_api.status_report import STATUS_AUDIENCE, TOKEN_MOUNT_DIR
from lightkube import ApiError, Client
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ServiceAccount
from lightkube.resources.rbac_authorization_v1 import Role, RoleBinding

from tests.e2e.conftest import Release
from tests.e2e.jobs import sklearn_training, submit, unique, wait_for_phase
from tests.e2e.test_access import as_token, token_for
from tests.support.eventually import Timeout
from tests.support.gateway import get_aijob
from tests.support.kubectl import kubectl

PROBE_MAP = "credentials-probe"
PROBE = textwrap.dedent(
    """
    import os
    import ssl
    import sys
    from pathlib import Path

    import httpx2 as httpx
    from aijob_worker import report

    API_TOKEN_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
    namespace, name, pod = (
        os.environ["AIJOB_NAMESPACE"],
        os.environ["AIJOB_NAME"],
        os.environ["AIJOB_POD_NAME"],
    )
    other, other_uid = sys.argv[1], sys.argv[2]
    token = Path(os.environ["AIJOB_STATUS_TOKEN_FILE"]).read_text().strip()
    bearer = {"Authorization": f"Bearer {token}"}
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    api = f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"
    aijobs = f"{api}/apis/aijob.dev/v1alpha1/namespaces/{namespace}/aijobs"
    forged = [{"op": "add", "path": "/status/phase", "value": "Succeeded"}]
    as_patch = {**bearer, "Content-Type": "application/json-patch+json"}

    checks: dict[str, float] = {"apiTokenMounted": float(API_TOKEN_DIR.exists())}
    # The API server's CA is not in the pod either (no API token volume): not verified here.
    with httpx.Client(verify=False, timeout=10) as client:
        checks["patchOwn"] = client.patch(
            f"{aijobs}/{name}/status", json=forged, headers=as_patch
        ).status_code
        checks["patchOther"] = client.patch(
            f"{aijobs}/{other}/status", json=forged, headers=as_patch
        ).status_code
        checks["listAIJobs"] = client.get(
            f"{api}/apis/aijob.dev/v1alpha1/aijobs", headers=bearer
        ).status_code
        checks["listPods"] = client.get(f"{api}/api/v1/pods", headers=bearer).status_code
        checks["listSecrets"] = client.get(
            f"{api}/api/v1/namespaces/{namespace}/secrets", headers=bearer
        ).status_code

    context = ssl.create_default_context(cadata=os.environ["AIJOB_STATUS_CA"])
    server_name = {"sni_hostname": os.environ["AIJOB_STATUS_SERVER_NAME"]}
    reports = f"{os.environ['AIJOB_STATUS_URL']}/v1/reports/{namespace}"
    with httpx.Client(verify=context, timeout=10) as client:
        progress = {"progress": {"percent": 99}}
        another = {"uid": other_uid, "pod": pod, "sequence": 1, "status": progress}
        checks["reportOther"] = client.post(
            f"{reports}/{other}", json=another, headers=bearer, extensions=server_name
        ).status_code
        checks["reportNoToken"] = client.post(
            f"{reports}/{name}", json=another, extensions=server_name
        ).status_code

    report(epoch=1, total_epochs=1, metrics=checks)
    print(checks, flush=True)
    """
)
"""The probe (run with the other job's name and uid): every HTTP status it meets, reported
as a metric over the channel."""


@pytest.fixture
def channel_release(release: Release, kube: Client) -> Release:
    """The session's release, when its operator runs the status channel."""
    operator = kube.get(Deployment, f"{release.name}-operator", namespace=release.namespace)
    assert operator.spec is not None
    assert operator.spec.template.spec is not None
    env = {e.name: e.value for e in operator.spec.template.spec.containers[0].env or []}
    if env.get("AIJOB_OPERATOR_STATUS_CHANNEL") != "true":
        pytest.skip("the release runs without the status channel (operator.statusChannel)")
    return release


@pytest.fixture
def probe_map(channel_release: Release) -> Iterator[str]:
    """The probe's ConfigMap in the tenant namespace."""
    tenant = channel_release.tenant
    kubectl("-n", tenant, "delete", "configmap", PROBE_MAP, "--ignore-not-found")
    kubectl("-n", tenant, "create", "configmap", PROBE_MAP, f"--from-literal=probe.py={PROBE}")
    yield PROBE_MAP
    kubectl("-n", tenant, "delete", "configmap", PROBE_MAP, "--ignore-not-found")


def _absent(kube: Client, kind: Any, namespace: str, name: str) -> bool:
    try:
        kube.get(kind, name, namespace=namespace)
    except ApiError as error:
        return error.status.code == 404
    return False


def test_a_job_reports_through_the_channel_with_no_identity_of_its_own(
    channel_release: Release, api: httpx.Client, kube: Client
) -> None:
    tenant, name = channel_release.tenant, unique("channel")
    submit(api, name, sklearn_training())
    job = wait_for_phase(kube, tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    status = job["status"]
    assert status["results"]["metrics"]["accuracy"] >= 0.8, status["results"]
    assert status["results"]["modelUri"], status["results"]
    assert status["progress"]["percent"] == 100
    pod = kube.get(Job, name, namespace=tenant).spec.template.spec  # type: ignore[union-attr]
    assert pod is not None
    assert pod.automountServiceAccountToken is False
    assert pod.serviceAccountName in (None, "default")
    (volume,) = [v for v in pod.volumes or [] if v.projected is not None]
    assert volume.projected is not None
    (source,) = volume.projected.sources or []
    assert source.serviceAccountToken is not None
    assert source.serviceAccountToken.audience == STATUS_AUDIENCE
    mounts = pod.containers[0].volumeMounts or []
    assert [m.mountPath for m in mounts if m.name == volume.name] == [TOKEN_MOUNT_DIR]
    for kind in (ServiceAccount, Role, RoleBinding):
        assert _absent(kube, kind, tenant, f"{name}-aijob-worker"), kind
    api.delete(f"/v1/jobs/{name}")


def test_a_workers_credentials_can_do_nothing_but_report_its_own_job(
    channel_release: Release, probe_map: str, api: httpx.Client, kube: Client, tmp_path: Path
) -> None:
    tenant = channel_release.tenant
    other, prober = unique("victim"), unique("probe")
    submit(api, other, sklearn_training())
    victim = wait_for_phase(kube, tenant, other, "Succeeded", Timeout.REAL_TRAINING)
    spec = {
        "task": "training",
        "framework": "sklearn",
        "code": {
            "configMap": probe_map,
            "entrypoint": "probe.py",
            "args": [other, victim["metadata"]["uid"]],
        },
        "resources": {"cpu": "250m", "memory": "512Mi"},
        "retryPolicy": {"maxRetries": 0},
    }
    submit(api, prober, spec)
    probed = wait_for_phase(kube, tenant, prober, "Succeeded", Timeout.REAL_TRAINING)
    checks = probed["status"]["progress"]["metrics"]  # reported over the channel itself
    assert checks["apiTokenMounted"] == 0, checks
    for request in ("patchOwn", "patchOther", "listAIJobs", "listPods", "listSecrets"):
        assert checks[request] == 401, f"{request}: {checks}"  # another audience: no one
    assert checks["reportOther"] == 403, checks
    assert checks["reportNoToken"] == 401, checks
    victim_now = get_aijob(kube, tenant, other)["status"]  # its own, as its worker left it
    assert victim_now["progress"] == victim["status"]["progress"], victim_now
    assert victim_now["phase"] == "Succeeded"
    # The namespace's default ServiceAccount, which the workers run as, holds no right either.
    with as_token(token_for(tenant, "default"), tmp_path) as client:
        status = f"/apis/aijob.dev/v1alpha1/namespaces/{tenant}/aijobs/{other}/status"
        refused = client.patch(
            status,
            json={"status": {"phase": "Failed"}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert refused.status_code == 403, refused.text
    for name in (other, prober):
        api.delete(f"/v1/jobs/{name}")
