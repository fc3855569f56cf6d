"""Two operator replicas with leader election: the leader is killed (SIGKILL) at a random
moment of a 200-AIJob burst; the standby takes over and nothing is lost or made twice."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from aijob_kube.resources import RawLease
from aijob_operator.leader_election import LOST_LEASE_EXIT_CODE
from lightkube import Client
from lightkube.types import PatchType

from tests.integration.operator.failover import (
    LEASE,
    LeaseNamespace,
    candidate,
    holder,
    run_trial,
)
from tests.integration.operator.process import OperatorProcess
from tests.support.eventually import Timeout, eventually

BURST = 200


def test_leader_killed_mid_burst_standby_takes_over_nothing_lost_or_duplicated(
    kube: Client, namespace: str, aijob_crd: str, priority_classes: dict[str, int], tmp_path: Path
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    with LeaseNamespace(kube) as lease_namespace:
        result = run_trial(kube, namespace, lease_namespace, tmp_path, burst=BURST, seed=seed)
    print(f"seed {seed}: {json.dumps(result.as_dict())}")
    assert 0 < result.jobs_before_kill < BURST, "the kill must land mid-burst"
    assert result.lost == 0, result
    assert result.duplicated == 0, result
    assert 0 < result.acquired_s <= result.first_write_s


def test_a_standby_is_live_writes_nothing_and_a_displaced_leader_exits(
    kube: Client, namespace: str, aijob_crd: str, priority_classes: dict[str, int], tmp_path: Path
) -> None:
    with LeaseNamespace(kube) as lease_namespace:
        leader = candidate(namespace, lease_namespace, "op-a", tmp_path).start()
        standby = candidate(namespace, lease_namespace, "op-b", tmp_path)
        try:
            eventually(
                lambda: holder(kube, lease_namespace).startswith("op-a_"),
                timeout=Timeout.PROCESS,
                what="op-a leads",
            )
            standby.start()

            def probe(process: OperatorProcess) -> dict[str, object]:
                url = f"http://127.0.0.1:{process.liveness_port}/healthz"
                try:
                    with urllib.request.urlopen(url, timeout=5) as got:
                        assert got.status == 200
                        return dict(json.loads(got.read())["reconcilers"])
                except urllib.error.URLError as error:
                    raise AssertionError(f"{url}: {error}") from error

            assert eventually(lambda: probe(standby), timeout=Timeout.PROCESS)["leader"] == 0
            assert probe(leader)["leader"] == 1
            # Another takes the Lease from under the leader: it stops by its renew deadline.
            lease_holder = holder(kube, lease_namespace)
            kube.patch(
                RawLease,
                LEASE,
                {"spec": {"holderIdentity": "intruder", "leaseDurationSeconds": 3600}},
                namespace=lease_namespace,
                patch_type=PatchType.MERGE,
            )
            assert lease_holder.startswith("op-a_")
            eventually(lambda: not leader.alive(), timeout=Timeout.API, what="op-a exits")
            assert leader.process is not None
            assert leader.process.returncode == LOST_LEASE_EXIT_CODE
            assert "lost by op-a_" in leader.log()
            assert probe(standby)["leader"] == 0  # the intruder's lease has not expired
        finally:
            leader.kill()
            standby.kill()
