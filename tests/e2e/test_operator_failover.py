"""Two operator replicas from the chart on the real node, the leader's pod deleted (grace 0)
while a job runs: another replica takes the Lease and finishes the job; nothing is lost and
nothing is made twice (issue 15 item 4). The kubelet still stops the deleted pod's container
with SIGTERM, so the leader releases the Lease and the first replica to read it takes it:
the standby, or the Deployment's replacement pod (docs/reliability.md).

The local values run one replica (tests/e2e/test_operator_restart.py covers that one); this
test scales the release's operator Deployment to two for its own run and back to one after.
It prints the figures: deletion -> another replica holds the Lease (which one), and when
the job finished.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from aijob_kube.resources import RawLease
from lightkube import Client
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod
from lightkube.types import PatchType

from tests.e2e.conftest import Release
from tests.e2e.jobs import simulated_gpu_job, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.kubectl import kubectl
from tests.support.release import operator_pods


def ready(pod: Pod) -> bool:
    conditions = (pod.status.conditions if pod.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def lease_spec(kube: Client, release: Release) -> dict[str, object]:
    lease = dict(kube.get(RawLease, f"{release.name}-operator", namespace=release.namespace))
    spec: dict[str, object] = lease["spec"]
    return spec


def _scale(kube: Client, release: Release, replicas: int) -> None:
    kube.patch(
        Deployment,
        f"{release.name}-operator",
        {"spec": {"replicas": replicas}},
        namespace=release.namespace,
        patch_type=PatchType.MERGE,
    )

    def settled() -> bool:
        # Terminating pods counted too: the next test must find only the replicas it expects.
        pods = operator_pods(kube, release, terminating=True)
        assert len(pods) == replicas, f"{len(pods)} operator pods, not {replicas}"
        assert all(ready(pod) for pod in pods), "an operator pod is not Ready"
        return True

    eventually(settled, timeout=Timeout.REAL_POD, what=f"{replicas} operator pods Ready")


@pytest.fixture
def two_replicas(release: Release, kube: Client) -> Iterator[None]:
    _scale(kube, release, 2)
    try:
        yield
    finally:
        _scale(kube, release, 1)


def test_two_replicas_fail_over(
    release: Release, api: httpx.Client, kube: Client, two_replicas: None
) -> None:
    name = unique("failover")
    submit(api, name, simulated_gpu_job({"aijob.dev/fake-run-seconds": "45"}))
    running = wait_for_phase(kube, release.tenant, name, "Running", Timeout.SIMULATED_JOB)
    job_uid = kube.get(Job, name, namespace=release.tenant).metadata.uid  # type: ignore[union-attr]

    holder = eventually(
        lambda: str(lease_spec(kube, release).get("holderIdentity") or ""),
        timeout=Timeout.API,
        what="a leader",
    )
    pods = operator_pods(kube, release)
    (old,) = [p for p in pods if p.metadata and holder.startswith(f"{p.metadata.name}_")]
    (standby,) = [p.metadata.name for p in pods if p.metadata and p is not old]
    assert old.metadata
    assert old.metadata.name
    deleted = time.monotonic()
    deleted_wall = datetime.now(UTC)
    kube.delete(Pod, old.metadata.name, namespace=release.namespace, grace_period=0)

    released: list[bool] = []

    def another_leads() -> str:
        spec = lease_spec(kube, release)
        holder_now = str(spec.get("holderIdentity") or "")
        released.append(not holder_now)
        if not holder_now or holder_now.startswith(f"{old.metadata.name}_"):  # type: ignore[union-attr]
            logs = kubectl("-n", release.namespace, "logs", str(standby), "--tail=40", check=False)
            raise AssertionError(f"lease {spec}; the standby's last lines:\n{logs.stdout}")
        return holder_now

    new_holder = eventually(
        another_leads, timeout=Timeout.SCHEDULING, interval=0.2, what="another replica leads"
    )
    taken = time.monotonic()
    # The standby, or the Deployment's replacement pod: the deleted pod's container got
    # SIGTERM and released the Lease, so whichever replica read it first took it.
    winner = new_holder.rpartition("_")[0]
    live = {p.metadata.name for p in operator_pods(kube, release) if p.metadata}
    assert winner in live, f"{winner} leads but is not a live operator pod ({live})"
    done = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.SIMULATED_JOB)
    finished = datetime.fromisoformat(str(done["status"]["completionTime"]).replace("Z", "+00:00"))
    print(
        f"\nleader pod deleted -> {'the standby' if winner == standby else 'its replacement'} "
        f"holds the lease: {taken - deleted:.1f} s (seen released: {any(released)}); "
        f"job Succeeded {(finished - deleted_wall).total_seconds():.1f} s after the deletion"
    )
    assert done["status"]["attempts"] == running["status"]["attempts"] == 1
    job = kube.get(Job, name, namespace=release.tenant)
    assert job.metadata
    assert job.metadata.uid == job_uid, "the Job was created again"
