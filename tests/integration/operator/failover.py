"""One failover trial: two operator processes elect a leader on a Lease, a burst of AIJobs
arrives, the leader is killed (SIGKILL) at a random moment mid-burst, the standby takes over.

Shared by tests/integration/operator/test_failover.py (one trial, asserts nothing is lost
or duplicated) and benchmarks/operator_failover.py (N trials, figures). What a trial
measures, on the local clock of the machine that runs it:

- `acquired_s`: kill → the Lease names the standby (the new leader's first write);
- `first_write_s`: kill → the first AIJob write seen after that (a new Job, or an AIJob's
  status changed since the kill), polled every `POLL_SECONDS`;
- `lost`: AIJobs without a Job or not Succeeded at the end;
- `duplicated`: Jobs deleted and made again (uid changed), AIJobs with more than one pod
  or more than one attempt.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from aijob_api.conditions import Phase
from aijob_api.constants import LABEL_JOB_NAME
from aijob_kube.resources import AIJobResource, RawLease
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Pod

from tests.integration.operator.process import OperatorProcess, free_port
from tests.integration.operator.support import AIJobs, manifest
from tests.support.eventually import Timeout, eventually

LEASE: Final = "aijob-operator"
POLL_SECONDS: Final = 0.1
STANDING_BY: Final = "standing by for lease"


@dataclass(frozen=True)
class TrialResult:
    """What one trial measured (seconds; counts)."""

    aijobs: int
    jobs_before_kill: int
    acquired_s: float
    first_write_s: float
    lost: int
    duplicated: int

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class LeaseNamespace:
    """The operators' own namespace for one trial (its Lease), deleted afterwards."""

    def __init__(self, kube: Client) -> None:
        self.kube = kube
        self.name = f"t-lease-{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> str:
        labels = {"aijob.dev/test": "true"}
        self.kube.create(Namespace(metadata=ObjectMeta(name=self.name, labels=labels)))
        return self.name

    def __exit__(self, *_: object) -> None:
        self.kube.delete(Namespace, self.name)


def candidate(namespace: str, lease_namespace: str, name: str, logs: Path) -> OperatorProcess:
    """An operator process with the election on, its identity prefixed with `name`."""
    return OperatorProcess(
        namespace,
        logs / f"operator-{name}.log",
        liveness_port=free_port(),
        extra_env={
            "AIJOB_OPERATOR_LEADER_ELECTION": "true",
            "AIJOB_OPERATOR_OWN_NAMESPACE": lease_namespace,
            "AIJOB_OPERATOR_LEASE_NAME": LEASE,
            "AIJOB_OPERATOR_POD_NAME": name,
            "AIJOB_OPERATOR_LOG_LEVEL": "INFO",
        },
    )


def holder(kube: Client, lease_namespace: str) -> str:
    """Who holds the Lease now ('' when nobody, or no Lease yet)."""
    try:
        lease = kube.get(RawLease, LEASE, namespace=lease_namespace)
    except ApiError:
        return ""
    return str((dict(lease).get("spec") or {}).get("holderIdentity") or "")


def statuses(kube: Client, namespace: str) -> dict[str, Any]:
    """Every AIJob's status by name (raw)."""
    return {
        str(item.metadata.name): dict(item).get("status")
        for item in kube.list(AIJobResource, namespace=namespace)
        if item.metadata is not None
    }


def run_trial(
    kube: Client, namespace: str, lease_namespace: str, logs: Path, *, burst: int, seed: int
) -> TrialResult:
    """Start a leader and a standby, burst `burst` AIJobs, kill the leader mid-burst, wait."""
    chooser = random.Random(seed)
    aijobs = AIJobs(kube, namespace)
    leader = candidate(namespace, lease_namespace, "op-a", logs).start()
    standby = candidate(namespace, lease_namespace, "op-b", logs)
    try:
        eventually(
            lambda: holder(kube, lease_namespace).startswith("op-a_"),
            timeout=Timeout.PROCESS,
            what="op-a leads",
        )
        standby.start()
        eventually(
            lambda: STANDING_BY in standby.log(), timeout=Timeout.PROCESS, what="op-b synced"
        )
        names = [f"burst-{number:03d}" for number in range(burst)]
        creator = threading.Thread(
            target=lambda: [aijobs.create(manifest(name, namespace)) for name in names]
        )
        creator.start()
        target = chooser.randint(max(1, burst // 10), max(1, burst * 9 // 10))

        def reached() -> int:
            assert leader.alive(), leader.log()
            count = len(aijobs.jobs())
            assert count >= target, f"{count} Jobs of {target}"
            return count

        eventually(reached, timeout=Timeout.SIMULATED_JOB, interval=0.02, what="kill moment")
        leader.kill()
        killed = time.monotonic()
        before = aijobs.job_uids()
        seen = statuses(kube, namespace)
        acquired, first_write = _await_takeover(kube, namespace, lease_namespace, before, seen)
        creator.join()
        lost, duplicated = _settle(kube, aijobs, names, before)
        return TrialResult(
            aijobs=burst,
            jobs_before_kill=len(before),
            acquired_s=round(acquired - killed, 3),
            first_write_s=round(first_write - killed, 3),
            lost=lost,
            duplicated=duplicated,
        )
    finally:
        leader.kill()
        standby.kill()


def _await_takeover(
    kube: Client,
    namespace: str,
    lease_namespace: str,
    jobs_before: dict[str, str],
    statuses_before: dict[str, Any],
) -> tuple[float, float]:
    """When the standby took the Lease, and when its first AIJob write was seen (monotonic)."""
    deadline = time.monotonic() + Timeout.SIMULATED_JOB
    acquired: float | None = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        if acquired is None and holder(kube, lease_namespace).startswith("op-b_"):
            acquired = now
        if acquired is not None:
            jobs = {job.metadata.name for job in AIJobs(kube, namespace).jobs() if job.metadata}
            changed = any(
                status and status != statuses_before.get(name)
                for name, status in statuses(kube, namespace).items()
            )
            if changed or jobs - set(jobs_before):
                return acquired, time.monotonic()
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"no takeover within {Timeout.SIMULATED_JOB}s of the kill")


def _settle(
    kube: Client, aijobs: AIJobs, names: list[str], before: dict[str, str]
) -> tuple[int, int]:
    """Wait for every AIJob to succeed (or the time to run out); (lost, duplicated)."""

    def all_succeeded() -> bool:
        waiting = [n for n, job in aijobs.all().items() if job.status.phase is not Phase.SUCCEEDED]
        assert not waiting, f"{len(waiting)} not Succeeded yet, e.g. {waiting[0]}"
        return True

    with contextlib.suppress(TimeoutError):  # what is not done by then counts as lost
        eventually(all_succeeded, timeout=Timeout.SIMULATED_JOB * 2, interval=1, what="all done")
    listed = aijobs.all()
    after = aijobs.job_uids()
    lost = sum(
        1
        for name in names
        if name not in after
        or name not in listed
        or listed[name].status.phase is not Phase.SUCCEEDED
    )
    pods: dict[str, int] = {}
    for pod in kube.list(Pod, namespace=aijobs.namespace, labels={LABEL_JOB_NAME: None}):
        owner = ((pod.metadata and pod.metadata.labels) or {}).get(LABEL_JOB_NAME, "")
        pods[owner] = pods.get(owner, 0) + 1
    duplicated = sum(1 for name, uid in before.items() if after.get(name, uid) != uid)
    duplicated += sum(1 for count in pods.values() if count > 1)
    duplicated += sum(1 for job in listed.values() if (job.status.attempts or 0) > 1)
    return lost, duplicated
