"""The worker's status writes against the real API server: the UID test holds, refusals are final.

The writes are made by the worker runtime's own classes (`KubeStatusWriter`,
`ProgressReporter`) in a process of a framework image's environment, as in a pod.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from aijob_kube.resources import AIJobResource
from lightkube import ApiError, Client
from lightkube.types import PatchType

from tests.integration.worker.support import create_aijob, framework_python, read_aijob
from tests.support.eventually import Timeout, eventually

TRAINING = {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}}

WRITE = textwrap.dedent(
    """
    import json, sys
    from aijob_worker.progress import ProgressReporter
    from aijob_worker.status import KubeStatusWriter

    job = json.load(sys.stdin)
    writer = KubeStatusWriter.from_environment(
        namespace=job["namespace"], name=job["name"], uid=job["uid"]
    )
    reporter = ProgressReporter(writer, interval=3600)
    landed = reporter.write_now(job["patch"], with_progress=False, deadline_seconds=600)
    error = reporter.last_error
    print(json.dumps({
        "landed": landed,
        "attempts": reporter.writes + reporter.failed_writes,
        "disabled": reporter.disabled,
        "error": None if error is None else str(error),
        "code": None if error is None else error.code,
        "refused": None if error is None else error.refused,
    }))
    """
)


def write_as_worker(
    kubeconfig: Path, namespace: str, name: str, uid: str, patch: dict[str, Any]
) -> dict[str, Any]:
    """One synchronous status write by the worker runtime, in a process of its own."""
    done = subprocess.run(
        [str(framework_python("sklearn")), "-c", WRITE],
        input=json.dumps({"namespace": namespace, "name": name, "uid": uid, "patch": patch}),
        capture_output=True,
        text=True,
        env={"KUBECONFIG": str(kubeconfig), "PATH": "/usr/bin:/bin"},
        timeout=Timeout.PROCESS,
        check=True,
    )
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


def recreated(kube: Client, namespace: str, name: str) -> tuple[str, str]:
    """Create an AIJob, delete it, create one of the same name: (old UID, new UID)."""
    old = create_aijob(kube, namespace, name, TRAINING).metadata.uid
    kube.delete(AIJobResource, name, namespace=namespace)

    def gone() -> bool:
        try:
            kube.get(AIJobResource, name, namespace=namespace)
        except ApiError as error:
            return error.status.code == 404
        return False

    eventually(gone, timeout=Timeout.API, what=f"AIJob {name} deleted")
    new = create_aijob(kube, namespace, name, TRAINING).metadata.uid
    assert old
    assert new
    assert old != new
    return old, new


def test_the_api_server_refuses_a_patch_testing_an_old_uid(
    kube: Client, namespace: str, kubeconfig: Path
) -> None:
    old, _ = recreated(kube, namespace, "again")
    progress = {"percent": 40, "stage": "from the old job"}
    with pytest.raises(ApiError) as refused:
        kube.patch(
            AIJobResource.Status,
            "again",
            [
                {"op": "test", "path": "/metadata/uid", "value": old},
                {"op": "test", "path": "/status", "value": None},
                {"op": "add", "path": "/status", "value": {"progress": progress}},
            ],
            namespace=namespace,
            patch_type=PatchType.JSON,
        )
    assert refused.value.status.code in (409, 422)
    assert read_aijob(kube, namespace, "again").status.progress is None


def test_a_worker_of_a_deleted_job_cannot_write_into_its_namesake(
    kube: Client, namespace: str, kubeconfig: Path
) -> None:
    old, new = recreated(kube, namespace, "namesake")
    stale = write_as_worker(
        kubeconfig, namespace, "namesake", old, {"progress": {"percent": 90, "stage": "old"}}
    )
    assert stale["landed"] is False
    assert stale["disabled"] is True, "a replaced job stops the old worker's writes for good"
    assert "was re-created" in stale["error"]
    assert read_aijob(kube, namespace, "namesake").status.progress is None

    # The namesake's own worker writes (its status did not exist yet: added whole).
    own = write_as_worker(
        kubeconfig, namespace, "namesake", new, {"progress": {"percent": 10, "stage": "new"}}
    )
    assert own["landed"] is True, own
    progress = read_aijob(kube, namespace, "namesake").status.progress
    assert progress is not None
    assert (progress.percent, progress.stage) == (10, "new")

    # And once it has a status, the old worker is still kept out.
    stale = write_as_worker(
        kubeconfig, namespace, "namesake", old, {"progress": {"percent": 99, "stage": "old"}}
    )
    assert stale["landed"] is False
    assert "was re-created" in stale["error"]
    progress = read_aijob(kube, namespace, "namesake").status.progress
    assert progress is not None
    assert progress.stage == "new"


def test_a_write_the_api_server_refuses_fails_at_once_with_its_message(
    kube: Client, namespace: str, kubeconfig: Path
) -> None:
    uid = create_aijob(kube, namespace, "refused", TRAINING).metadata.uid
    assert uid is not None
    outcome = write_as_worker(kubeconfig, namespace, "refused", uid, {"progress": {"percent": 500}})
    assert outcome["landed"] is False
    assert outcome["attempts"] == 1, "refused: not retried for the 600 s deadline"
    assert outcome["refused"] is True
    assert outcome["disabled"] is False, "later writes may still land"
    assert outcome["code"] == 422
    assert "status.progress.percent" in outcome["error"]
    assert "less than or equal to 100" in outcome["error"]
    assert "unreachable" not in outcome["error"]
