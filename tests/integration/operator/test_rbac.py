"""Per-job least privilege, as the API server enforces it: a job patches only its own status."""

from __future__ import annotations

import json

import pytest
from aijob_api.conditions import Phase
from aijob_operator.builders.meta import identity_name

from tests.integration.operator.support import AIJobs, manifest
from tests.support.eventually import Timeout
from tests.support.kubectl import kubectl

pytestmark = pytest.mark.usefixtures("operator")


def as_job(namespace: str, name: str, *args: str) -> tuple[int, str]:
    """Run kubectl as the ServiceAccount of an AIJob's pods."""
    result = kubectl(
        *args,
        "-n",
        namespace,
        f"--as=system:serviceaccount:{namespace}:{identity_name(name)}",
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_jobs_identity_reaches_only_its_own_status(aijobs: AIJobs, namespace: str) -> None:
    for name in ("mine", "theirs"):
        aijobs.create(manifest(name, namespace))
    for name in ("mine", "theirs"):
        aijobs.wait_phase(name, Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    progress = json.dumps({"status": {"progress": {"percent": 42, "stage": "rbac-test"}}})

    code, out = as_job(namespace, "mine", "get", "aijob", "mine", "-o", "name")
    assert code == 0, out
    code, out = as_job(
        namespace,
        "mine",
        "patch",
        "aijob",
        "mine",
        "--subresource=status",
        "--type=merge",
        "-p",
        progress,
    )
    assert code == 0, out
    progress_now = aijobs.get("mine").status.progress
    assert progress_now is not None
    assert progress_now.stage == "rbac-test"

    denied = [
        ("get", "aijob", "theirs"),
        ("patch", "aijob", "theirs", "--subresource=status", "--type=merge", "-p", progress),
        ("patch", "aijob", "mine", "--type=merge", "-p", '{"spec": {"cancel": true}}'),
        ("delete", "aijob", "mine"),
        ("get", "pods"),
        ("get", "secrets"),
    ]
    for args in denied:
        code, out = as_job(namespace, "mine", *args)
        assert code != 0, args
        assert "forbidden" in out.lower(), out
