"""Least privilege, checked against the real API server with real ServiceAccount tokens:
a worker may write only its own job's status (none at all on the status channel); the
operator may not do what it does not need."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path
from typing import Any

import httpx
from lightkube import Client, KubeConfig
from lightkube.resources.batch_v1 import Job

from tests.e2e.conftest import Release
from tests.e2e.jobs import simulated_gpu_job, submit, unique, wait_for_phase
from tests.support.eventually import Timeout
from tests.support.kubectl import kubectl

STATUS_PATCH = {"status": {"progress": {"stage": "written by another job's worker"}}}


def token_for(namespace: str, service_account: str) -> str:
    """A short-lived token through the TokenRequest API (`kubectl create token`)."""
    return kubectl(
        "-n", namespace, "create", "token", service_account, "--duration=10m"
    ).stdout.strip()


def as_token(token: str, workdir: Path) -> httpx.Client:
    """An HTTP client to the session's API server that authenticates only with `token`."""
    config = KubeConfig.from_env().get()
    assert config, "the kubeconfig has no current context"
    cluster = config.cluster
    assert cluster.server, "the kubeconfig names no server"
    verify: Any = True
    if cluster.certificate_auth_data:
        ca_file = workdir / "ca.crt"
        ca_file.write_bytes(base64.b64decode(cluster.certificate_auth_data))
        verify = ssl.create_default_context(cafile=str(ca_file))
    elif cluster.certificate_auth:
        verify = ssl.create_default_context(cafile=cluster.certificate_auth)
    return httpx.Client(
        base_url=cluster.server,
        headers={"Authorization": f"Bearer {token}"},
        verify=verify,
        timeout=15,
    )


def aijob_status_path(namespace: str, name: str) -> str:
    return f"/apis/aijob.dev/v1alpha1/namespaces/{namespace}/aijobs/{name}/status"


def test_a_worker_cannot_patch_another_jobs_status(
    release: Release, api: httpx.Client, kube: Client, tmp_path: Path
) -> None:
    mine, other = unique("mine"), unique("other")
    for name in (mine, other):
        submit(api, name, simulated_gpu_job({"aijob.dev/fake-run-seconds": "120"}))
    for name in (mine, other):
        wait_for_phase(kube, release.tenant, name, "Running", Timeout.SIMULATED_JOB)
    job = kube.get(Job, mine, namespace=release.tenant)
    assert job.spec
    pod = job.spec.template.spec
    assert pod
    # A pod template naming no account runs as the namespace's `default`.
    service_account = pod.serviceAccountName or "default"
    # On the status channel the pod mounts no API token and runs as the namespace's default
    # account, which may write no AIJob status at all (test_status_channel.py covers the
    # channel itself); without the channel its own per-job identity writes its own only.
    on_channel = pod.automountServiceAccountToken is False
    assert (service_account == "default") is on_channel, service_account

    headers = {"Content-Type": "application/merge-patch+json"}
    with as_token(token_for(release.tenant, service_account), tmp_path) as client:
        own = client.patch(
            aijob_status_path(release.tenant, mine), json=STATUS_PATCH, headers=headers
        )
        if on_channel:
            assert own.status_code == 403, f"the namespace's default account wrote: {own.text}"
        else:
            assert own.status_code == 200, f"the worker cannot write its own status: {own.text}"
        theirs = client.patch(
            aijob_status_path(release.tenant, other), json=STATUS_PATCH, headers=headers
        )
        assert theirs.status_code == 403, theirs.text
        spec = client.patch(
            f"/apis/aijob.dev/v1alpha1/namespaces/{release.tenant}/aijobs/{mine}",
            json={"spec": {"cancel": True}},
            headers=headers,
        )
        assert spec.status_code == 403, "a worker must not change any job's spec"
    for name in (mine, other):
        api.delete(f"/v1/jobs/{name}")


def test_the_operator_cannot_do_what_it_does_not_need(release: Release, tmp_path: Path) -> None:
    token = token_for(release.namespace, release.operator_service_account)
    with as_token(token, tmp_path) as client:
        allowed = client.get(f"/apis/aijob.dev/v1alpha1/namespaces/{release.tenant}/aijobs")
        assert allowed.status_code == 200, f"the operator must read AIJobs: {allowed.text}"
        secrets = client.get("/api/v1/namespaces/kube-system/secrets")
        assert secrets.status_code == 403, secrets.text
        # dryRun: even if RBAC let it through, nothing would be deleted.
        node = client.delete("/api/v1/nodes/kwok-cpu-0", params={"dryRun": "All"})
        assert node.status_code == 403, node.text
        crd = client.delete(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/aijobs.aijob.dev",
            params={"dryRun": "All"},
        )
        assert crd.status_code == 403, crd.text
