"""Priorities through the chart: with every simulated GPU taken by low-priority jobs, a
high-priority job preempts one; the preempted job waits without spending a retry, then
runs again and finishes once the GPUs are free."""

from __future__ import annotations

import httpx
from lightkube import Client

from tests.e2e.conftest import Release
from tests.e2e.jobs import simulated_gpu_job, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob

GPUS_PER_NODE = 8
"""Each of the two simulated GPU nodes has 8 nvidia.com/gpu (hack/cluster/nodes.yaml)."""
LOW_RUN_SECONDS = 40
HIGH_RUN_SECONDS = 10


def test_high_priority_preempts_low_which_waits_then_finishes(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    low = [unique("low"), unique("low")]
    for name in low:
        spec = simulated_gpu_job(
            {"aijob.dev/fake-run-seconds": str(LOW_RUN_SECONDS)},
            gpus=GPUS_PER_NODE,
            priority="low",
        )
        submit(api, name, spec)
    for name in low:
        wait_for_phase(kube, release.tenant, name, "Running", Timeout.SCHEDULING)

    urgent = unique("urgent")
    spec = simulated_gpu_job(
        {"aijob.dev/fake-run-seconds": str(HIGH_RUN_SECONDS)},
        gpus=GPUS_PER_NODE,
        priority="high",
    )
    submit(api, urgent, spec)

    def one_low_job_preempted() -> str:
        statuses = {name: get_aijob(kube, release.tenant, name)["status"] for name in low}
        preempted = [name for name, s in statuses.items() if s.get("reason") == "Preempted"]
        assert len(preempted) == 1, {
            n: (s.get("phase"), s.get("message")) for n, s in statuses.items()
        }
        return preempted[0]

    victim = eventually(one_low_job_preempted, timeout=Timeout.SCHEDULING, what="a preemption")
    waiting = get_aijob(kube, release.tenant, victim)["status"]
    assert waiting["phase"] == "Queued"
    assert "no retry spent" in waiting["message"]
    # The API reports the wait the same way.
    view = api.get(f"/v1/jobs/{victim}").json()
    assert view["status"]["phase"] == "Queued"

    wait_for_phase(kube, release.tenant, urgent, "Succeeded", Timeout.SIMULATED_JOB)
    done = wait_for_phase(
        kube, release.tenant, victim, "Succeeded", HIGH_RUN_SECONDS + Timeout.SIMULATED_JOB
    )
    assert done["status"].get("failedAttempts", 0) == 0, "a preemption is not a failure"
    assert done["status"]["nodeName"].startswith("kwok-gpu-")
