"""A real worker SIGKILLed while it reports progress (issue 15 item 7): the job is retried and
finishes; at no moment is its status half-written or left on a stale phase.

The kill lands right after one of the worker's progress writes is seen in the AIJob (the
chart's local values make the worker write every 2 s): its writer is between two writes or
inside the next. Every status read meanwhile must validate as a whole AIJob; once the
killed pod has ended, the phase must leave Running-on-that-pod (Retrying, then Running on
the new pod) and end Succeeded with the second attempt's results.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import httpx
from aijob_api.models import AIJob
from lightkube import Client
from lightkube.resources.core_v1 import Pod

from tests.e2e.conftest import Release
from tests.e2e.endpoints import crash_containers
from tests.e2e.jobs import sklearn_training, submit, unique
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob

EPOCHS = 60
FINAL = {"Succeeded", "Failed", "Cancelled"}


def test_worker_killed_mid_report_is_retried_and_finishes(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    name = unique("killed")
    spec = sklearn_training(nEstimators=600, epochs=EPOCHS)
    spec["dataset"] = {"name": "digits", "testFraction": 0.2}
    submit(api, name, spec)

    def read() -> dict[str, Any]:
        body = get_aijob(kube, release.tenant, name)
        AIJob.model_validate(body)  # never half-written: the whole object validates
        return body

    def reporting() -> dict[str, Any]:
        body = read()
        status = body.get("status") or {}
        assert status.get("phase") == "Running", status.get("phase")
        assert ((status.get("progress") or {}).get("epoch") or 0) >= 1, "no progress yet"
        return body

    seen = eventually(reporting, timeout=Timeout.REAL_TRAINING, what="progress reported")
    version = seen["metadata"]["resourceVersion"]

    def wrote_again() -> dict[str, Any]:
        body = read()
        assert body["metadata"]["resourceVersion"] != version, "no new write yet"
        return body

    written = eventually(wrote_again, timeout=Timeout.PROCESS, interval=0.05, what="a write")
    killed_pod = str(written["status"]["podName"])
    killed_epoch = int(written["status"]["progress"]["epoch"])
    pod = kube.get(Pod, killed_pod, namespace=release.tenant)
    killed_at = time.monotonic()
    assert crash_containers(pod) >= 1, "no worker process found to kill"

    phases: list[str] = []

    def finished() -> dict[str, Any]:
        body = read()
        status = body.get("status") or {}
        phase = str(status.get("phase"))
        seen = f"{phase}({status.get('podName')}, {status.get('attempts')})"
        if not phases or phases[-1] != seen:
            phases.append(seen)
        if phase == "Running" and status.get("podName") == killed_pod:
            ended = kube.get(Pod, killed_pod, namespace=release.tenant)
            pod_phase = ended.status.phase if ended.status else None
            stale_for = time.monotonic() - killed_at
            assert pod_phase not in {"Failed", "Succeeded"} or stale_for < Timeout.API, (
                f"still Running on {killed_pod}, {pod_phase} {stale_for:.0f} s after the kill"
            )
        assert phase in FINAL, f"{phase} (phases so far {phases})"
        return body

    done = eventually(finished, timeout=Timeout.REAL_TRAINING, interval=0.2, what="the job's end")
    status = done["status"]
    print(
        f"\nworker SIGKILLed at epoch {killed_epoch} of {EPOCHS}; phases after the kill: "
        f"{' -> '.join(phases)}; attempts {status['attempts']}, failed "
        f"{status.get('failedAttempts', 0)}; ended {time.monotonic() - killed_at:.0f} s later",
        file=sys.__stdout__,
        flush=True,
    )
    assert status["phase"] == "Succeeded", status.get("message")
    assert status["podName"] != killed_pod
    assert status["attempts"] == 2
    assert status["failedAttempts"] == 1
    assert status["results"]["metrics"]["accuracy"] > 0.8
    assert status["progress"]["percent"] == 100
