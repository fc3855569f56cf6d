"""Benchmark of the operator's start: CPU seconds from process start to live, and where they go.

Each arm runs `--rounds` times, round-robin, so the machine's noise falls on all alike:

- `bare interpreter`: a fresh `python -c` that imports nothing (`time` aside).
- `framework imports`: `import kopf, lightkube` in a fresh process: the floor the operator
  cannot go below while it is a kopf operator with a lightkube client.
- `operator imports`: `import aijob_operator.__main__`: the framework, the API models and
  the operator's own modules. The import arms read their CPU time in the child before it
  exits (its teardown is not part of a start).
- `start, bytecode compiled`: `python -m aijob_operator` on two empty namespaces (the
  status channel on, as the chart runs it) until its liveness endpoint answers: imports,
  the first listings, the status server's TLS. Every module's bytecode is compiled first,
  as in the operator's image (`benchmarks.support.compile_bytecode`).
- `start, no bytecode`: the same with an empty bytecode cache (PYTHONPYCACHEPREFIX set to
  an empty directory, PYTHONDONTWRITEBYTECODE): each module compiled from source at import,
  which is what a virtual environment kept without bytecode pays at every start.
- `pod start` (with --pod): the chart's operator pod in the cluster (its image, the real
  node): one pod deleted, its replacement polled on its pod IP until live, then its own
  `process_cpu_seconds_total` read from its /metrics. Needs `make demo` (or the chart
  installed) and pod IPs reachable from this machine (the local cluster's real node).

Usage, from the repository root:
uv run --frozen python -m benchmarks.operator_start [--rounds 5] [--pod]
Writes benchmarks/results/operator_start.json; deletes its namespaces at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Pod
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.operator_throughput import status_channel_env
from benchmarks.support import (
    RESULTS_DIR,
    OperatorProcess,
    compile_bytecode,
    http_get,
    prepared_cluster,
    write_report,
)

RESULTS = RESULTS_DIR / "operator_start.json"
OPERATOR_POD_LABELS: dict[str, Any] = {"app.kubernetes.io/component": "operator"}
POD_START_SECONDS = 300.0
"""Longest wait for a replacement operator pod to be scheduled, started and live."""
POLL_SECONDS = 0.1

Sample = dict[str, float]


def import_arm(modules: str | None) -> Callable[[], Sample]:
    """CPU seconds of a fresh interpreter from its start to having imported `modules`.

    Read by the child itself (`time.process_time`) before it exits, so the teardown of
    what it imported is not counted, as it is not in a start.
    """
    statement = "import time\n"
    if modules:
        statement += f"import {modules}\n"
    statement += "print(time.process_time())\n"

    def measure() -> Sample:
        output = subprocess.run(
            [sys.executable, "-c", statement], capture_output=True, text=True, check=True
        ).stdout
        return {"cpu_seconds": float(output.strip())}

    return measure


def operator_start_arm(
    namespaces: list[str], log: Path, env: dict[str, str]
) -> Callable[[], Sample]:
    def measure() -> Sample:
        operator = OperatorProcess(namespaces, log, env)
        started = time.perf_counter()
        operator.start()
        try:
            operator.wait_live()
            seconds = time.perf_counter() - started
            fields = operator.memory_and_cpu()
        finally:
            operator.stop()
        return {
            "cpu_seconds": fields["cpu_seconds"],
            "wall_seconds": seconds,
            "rss_mib": fields["VmRSS"],
        }

    return measure


@dataclass(frozen=True)
class OperatorPod:
    """One operator pod as the pod arm needs it."""

    name: str
    address: str | None  # its pod IP, once it has one and runs
    ports: dict[str, int]  # container ports by name

    @classmethod
    def of(cls, pod: Pod) -> OperatorPod:
        name = pod.metadata.name if pod.metadata and pod.metadata.name else ""
        running = pod.status is not None and pod.status.phase == "Running"
        address = pod.status.podIP if running and pod.status else None
        ports = {
            port.name: port.containerPort
            for container in (pod.spec.containers if pod.spec else [])
            for port in container.ports or []
            if port.name
        }
        return cls(name, address, ports)

    def url(self, port: str, path: str) -> str:
        if port not in self.ports:
            raise RuntimeError(f"the operator pod {self.name} has no container port {port!r}")
        return f"http://{self.address}:{self.ports[port]}{path}"


def pod_start_arm(client: Client, namespace: str) -> Callable[[], Sample]:
    def operator_pods() -> list[OperatorPod]:
        pods = client.list(Pod, namespace=namespace, labels=OPERATOR_POD_LABELS)
        return [OperatorPod.of(pod) for pod in pods]

    def live(pod: OperatorPod) -> bool:
        try:
            status, _ = http_get(pod.url("liveness", "/healthz"), timeout=1)
        except OSError:
            return False
        return status == 200

    def measure() -> Sample:
        before = operator_pods()
        if not before:
            raise RuntimeError(f"no operator pod ({OPERATOR_POD_LABELS}) in {namespace}")
        old = {pod.name for pod in before}
        victim = min(old)
        started = time.perf_counter()
        client.delete(Pod, victim, namespace=namespace)
        deadline = time.monotonic() + POD_START_SECONDS
        while time.monotonic() < deadline:
            for pod in operator_pods():
                if pod.name in old or pod.address is None or not live(pod):
                    continue
                seconds = time.perf_counter() - started
                status, text = http_get(pod.url("metrics", "/metrics"))
                if status != 200:
                    raise RuntimeError(f"{pod.name}'s /metrics answered {status}")
                values = {
                    sample.name: sample.value
                    for family in text_string_to_metric_families(text)
                    for sample in family.samples
                }
                return {
                    "cpu_seconds": values["process_cpu_seconds_total"],
                    "wall_seconds": seconds,
                    "rss_mib": values["process_resident_memory_bytes"] / 2**20,
                }
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"no replacement of {victim} live within {POD_START_SECONDS:.0f}s")

    return measure


def summary(samples: list[Sample]) -> dict[str, Any]:
    cpu = [sample["cpu_seconds"] for sample in samples]
    shown: dict[str, Any] = {
        "cpu_seconds_median": round(statistics.median(cpu), 3),
        "cpu_seconds_min": round(min(cpu), 3),
        "cpu_seconds_max": round(max(cpu), 3),
        "samples": [{key: round(value, 3) for key, value in sample.items()} for sample in samples],
    }
    return shown


def run(args: argparse.Namespace, client: Client, scratch: Path) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:6]
    namespaces = [f"bench-{run_id}-start-{number}" for number in range(2)]
    for name in namespaces:
        client.create(
            Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/benchmark": "true"}))
        )
    env = status_channel_env(scratch)
    empty_cache = scratch / "empty-pycache"
    empty_cache.mkdir()
    uncompiled = {**env, "PYTHONPYCACHEPREFIX": str(empty_cache), "PYTHONDONTWRITEBYTECODE": "1"}
    log = Path(args.log)
    arms: dict[str, Callable[[], Sample]] = {
        "bare interpreter": import_arm(None),
        "framework imports": import_arm("kopf, lightkube"),
        "operator imports": import_arm("aijob_operator.__main__"),
        "start, bytecode compiled": operator_start_arm(namespaces, log, env),
        "start, no bytecode": operator_start_arm(namespaces, log, uncompiled),
    }
    if args.pod:
        arms["pod start"] = pod_start_arm(client, args.pod_namespace)
    samples: dict[str, list[Sample]] = {name: [] for name in arms}
    load = [os.getloadavg()[0]]
    try:
        for round_number in range(args.rounds):
            for name, measure in arms.items():
                sample = measure()
                samples[name].append(sample)
                print(f"round {round_number + 1} {name}: {sample}", flush=True)
            load.append(os.getloadavg()[0])
    finally:
        for name in namespaces:
            client.delete(Namespace, name)
    results = {name: summary(values) for name, values in samples.items()}
    compiled = results["start, bytecode compiled"]["cpu_seconds_median"]
    ratios = {
        name: round(result["cpu_seconds_median"] / compiled, 2) for name, result in results.items()
    }
    return {
        "benchmark": "operator_start",
        "run_id": run_id,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rounds": args.rounds,
        "load_average_1m": [round(value, 2) for value in load],
        "arms": results,
        "median_against_start_compiled": ratios,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pod", action="store_true", help="also restart the chart's operator pod")
    parser.add_argument("--pod-namespace", default="aijob-system")
    parser.add_argument("--log", default="/tmp/aijob-operator-start.log")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    client = prepared_cluster()
    print("compiling bytecode", flush=True)
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="aijob-bench-") as scratch:
        report = run(args, client, Path(scratch))
    for name, result in report["arms"].items():
        print(
            f"{name:26} median {result['cpu_seconds_median']:.2f} CPU-s"
            f" ({report['median_against_start_compiled'][name]:.2f}x the compiled start)"
        )
    write_report(args.output, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
