"""Benchmark of operator failover: two replicas with leader election, the leader SIGKILLed.

Each trial (default 10), in a fresh namespace of the local cluster: two operator processes
(`python -m aijob_operator`, election on, the client-go standard timings 15/10/2 s) elect
a leader on a Lease in a second fresh namespace; a burst of --burst AIJobs (default 200,
created one by one as fast as the API server answers) runs on KWOK nodes; the leader is
killed at a random moment while its Jobs are being made (between 10% and 90% of them);
the standby takes over. Per trial (tests/integration/operator/failover.py says exactly
how each is taken): kill -> the Lease names the standby (`acquired_s`), kill -> the new
leader's first AIJob write (`first_write_s`), AIJobs lost (no Job, or not Succeeded) and
duplicated (a Job made twice, a second pod or attempt). What they compare against: a lease
duration of 15 s is the floor of `acquired_s` for a leader that dies without releasing
(the standby waits out the last renewal it saw), plus up to one retry period (2 s).

Usage, from the repository root:
uv run --frozen python -m benchmarks.operator_failover [--trials 10] [--burst 200]
Needs the local cluster (KUBECONFIG or .cluster/kubeconfig). Writes
benchmarks/results/operator_failover.json; deletes its namespaces as it goes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from benchmarks.support import RESULTS_DIR, kubeconfig_path, prepared_cluster, write_report
from tests.integration.operator.failover import LeaseNamespace, run_trial

RESULTS = RESULTS_DIR / "operator_failover.json"


def summary(values: list[float]) -> dict[str, float]:
    """min, median, mean and max."""
    return {
        "min": min(values),
        "median": round(statistics.median(values), 3),
        "mean": round(statistics.mean(values), 3),
        "max": max(values),
    }


def run(kube: Client, trials: int, burst: int, logs: Path) -> dict[str, Any]:
    """Run the trials; the report."""
    run_id = uuid.uuid4().hex[:6]
    results = []
    for number in range(trials):
        namespace = f"bench-failover-{run_id}-{number}"
        kube.create(Namespace(metadata=ObjectMeta(name=namespace)))
        try:
            with LeaseNamespace(kube) as lease_namespace:
                trial_logs = logs / f"trial-{number}"
                trial_logs.mkdir(parents=True, exist_ok=True)
                result = run_trial(
                    kube, namespace, lease_namespace, trial_logs, burst=burst, seed=number
                ).as_dict()
        finally:
            kube.delete(Namespace, namespace)
        print(f"trial {number + 1}/{trials}: {json.dumps(result)}", flush=True)
        results.append(result)
    return {
        "benchmark": "operator_failover",
        "run_id": run_id,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "timings_s": {"lease_duration": 15, "renew_deadline": 10, "retry_period": 2},
        "burst": burst,
        "trials": results,
        "acquired_s": summary([r["acquired_s"] for r in results]),
        "first_write_s": summary([r["first_write_s"] for r in results]),
        "lost": sum(r["lost"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ["KUBECONFIG"] = kubeconfig_path()  # the operator processes' cluster
    kube = prepared_cluster()
    with tempfile.TemporaryDirectory(prefix="aijob-failover-") as logs:
        report = run(kube, args.trials, args.burst, Path(logs))
    for figure in ("acquired_s", "first_write_s"):
        print(f"{figure}: {report[figure]}")
    print(f"lost {report['lost']}, duplicated {report['duplicated']}")
    write_report(args.output, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
