"""Benchmark of the operator: AIJob -> Job, each number against a baseline from the same run.

For each N (default 200 and 1,000), in fresh namespaces of the local cluster:

1. Burst. Baseline: create N Jobs directly (the Jobs the operator would build, without
   the AIJob) with lightkube's AsyncClient, 16 requests in flight. Operator: create N
   AIJobs with the same client and concurrency; the operator (`python -m aijob_operator`,
   its own process, watching only the benchmark's namespaces) creates the Jobs.
   Throughput = N / (first create sent -> N-th Job seen by a watch); ratio = operator /
   baseline.
2. Paced at 10 per second. Latency of each item: its create call returned -> its Job's
   ADDED event reached the benchmark's watch. Baseline: the Job itself (the floor: the
   watch's own delay); operator: the AIJob -> the Job the operator made. p50 and p99.
3. API writes per lifecycle (create -> Succeeded), from the API server's own
   `apiserver_request_total` before and after each burst arm (every writer in the
   cluster: this client, the operator, the Job controller, the scheduler, KWOK),
   by resource and verb; and the operator's own count from its `/metrics`.
4. The operator process's peak RSS (VmHWM) and CPU time (also at ready: its start).

The workers' identity is the chart's default, the status channel (`--worker-identity
channel`: the operator serves its HTTPS status endpoint with a throw-away certificate and
makes no per-job ServiceAccount, Role and RoleBinding); `--worker-identity rbac` measures
the per-job identity instead (the operator's own default, the first design's figures).

With --rss-aijobs M (e.g. 10000): M AIJobs created (paced, --rss-rate per second) and
run to Succeeded, or, with --rss-queue Q, held in a (not installed) Kueue queue so their
Jobs stay suspended and no pods run; then the operator's RSS with all of them present,
and again after a restart (the initial listing is the peak).

Usage, from the repository root:
uv run --frozen python -m benchmarks.operator_throughput [--sizes 200 1000] [--rate 10]
       [--rss-aijobs 10000 --rss-queue held]
Needs the local cluster (KUBECONFIG or .cluster/kubeconfig); applies the AIJob CRD and
creates aijob's PriorityClasses when absent (benchmarks.support, from tests/support).
Writes benchmarks/results/operator_throughput.json; deletes its namespaces at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from aijob_api.models import AIJob
from aijob_kube.resources import AIJobResource
from aijob_operator.builders.job import PodSettings, build_job
from aijob_operator.catalog import load_catalog
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Namespace
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.support import (
    RESULTS_DIR,
    OperatorProcess,
    compile_bytecode,
    free_port,
    kubeconfig_path,
    kubectl_binary,
    latency_summary,
    prepared_cluster,
    write_report,
)
from tests.support.tls import self_signed_pair

RESULTS = RESULTS_DIR / "operator_throughput.json"
SPEC = {
    "task": "training",
    "model": {"type": "random_forest"},
    "dataset": {"name": "iris"},
    # Small requests, so the simulated CPU node's 32 cores never limit how many run.
    "resources": {"cpu": "10m", "memory": "16Mi"},
}
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"})
CONCURRENCY = 16


def status_channel_env(directory: Path) -> dict[str, str]:
    """The operator's settings for the status channel on loopback (a fresh certificate)."""
    pair = self_signed_pair(directory, "aijob-operator-status")
    port = free_port()
    return {
        "AIJOB_OPERATOR_STATUS_CHANNEL": "true",
        "AIJOB_OPERATOR_STATUS_TLS_CERT_FILE": str(pair.cert),
        "AIJOB_OPERATOR_STATUS_TLS_KEY_FILE": str(pair.key),
        "AIJOB_OPERATOR_STATUS_CA_FILE": str(pair.cert),
        "AIJOB_OPERATOR_STATUS_HOST": "127.0.0.1",
        "AIJOB_OPERATOR_STATUS_PORT": str(port),
        "AIJOB_OPERATOR_STATUS_URL": f"https://127.0.0.1:{port}",
    }


# --- the API server's write counters -------------------------------------------------------


def apiserver_writes() -> Counter[str]:
    """Write requests the API server has served, by `verb resource[/subresource]`."""
    text = subprocess.run(
        [kubectl_binary(), "--kubeconfig", kubeconfig_path(), "get", "--raw", "/metrics"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    writes: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        if family.name != "apiserver_request":
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            labels = sample.labels
            if labels.get("verb") not in WRITE_VERBS:
                continue
            resource = labels.get("resource", "")
            if labels.get("subresource"):
                resource += "/" + labels["subresource"]
            writes[f"{labels['verb']} {resource}"] += int(sample.value)
    return writes


def per_item(before: Counter[str], after: Counter[str], items: int) -> dict[str, float]:
    diff = {key: after[key] - before.get(key, 0) for key in after}
    shown = {key: round(value / items, 2) for key, value in sorted(diff.items()) if value > 0}
    shown["TOTAL"] = round(sum(value for value in diff.values() if value > 0) / items, 2)
    return shown


# --- the operator as a process ------------------------------------------------------------


class Operator(OperatorProcess):
    """The operator process (benchmarks.support) as the arms use it: awaited, its metrics."""

    async def ready(self, within: float = 60) -> None:
        await asyncio.to_thread(self.wait_live, within)

    def metrics(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for family in text_string_to_metric_families(self.metrics_text()):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                values[f"{sample.name}{{{labels}}}"] = sample.value
        return values


def operator_writes(
    before: dict[str, float], after: dict[str, float], items: int
) -> dict[str, float]:
    prefix = "aijob_operator_api_requests_total{"
    shown: dict[str, float] = {}
    for key, value in after.items():
        if not key.startswith(prefix) or "verb=get" in key:
            continue
        delta = value - before.get(key, 0.0)
        if delta:
            labels = dict(part.split("=", 1) for part in key[len(prefix) : -1].split(","))
            shown[f"{labels['verb']} {labels['resource']} {labels['code']}"] = round(
                delta / items, 2
            )
    shown["TOTAL"] = round(sum(shown.values()), 2)
    return shown


# --- creating, watching, waiting ----------------------------------------------------------


class JobWatch:
    """When each Job of a namespace was first seen (ADDED) by a watch."""

    def __init__(self, client: AsyncClient, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.seen: dict[str, float] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run())
        await asyncio.sleep(1.0)  # let the watch request reach the API server

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(ApiError, httpx.HTTPError):
                async for _kind, job in self.client.watch(Job, namespace=self.namespace):
                    name = job.metadata.name if job.metadata else None
                    if name and name not in self.seen:
                        self.seen[name] = time.perf_counter()

    async def wait_for(self, count: int, within: float) -> None:
        deadline = time.monotonic() + within
        while len(self.seen) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.seen)}/{count} Jobs seen in {self.namespace}")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def baseline_job(name: str, namespace: str) -> Job:
    """The Job the operator would build for an AIJob of this name, made without one."""
    aijob = AIJob.model_validate(
        {"metadata": {"name": name, "namespace": namespace, "uid": "none"}, "spec": SPEC}
    )
    catalog = load_catalog()
    job = build_job(aijob, catalog.resolve(aijob.spec.resolved_framework), PodSettings())
    assert job.metadata is not None
    assert job.spec is not None
    assert job.spec.template.spec is not None
    job.metadata.ownerReferences = None  # no AIJob owns it (the GC would delete it)
    job.spec.template.spec.serviceAccountName = "default"
    return job


def aijob_manifest(name: str, namespace: str, queue: str | None = None) -> Any:
    spec = {**SPEC, "queue": queue} if queue else SPEC
    return AIJobResource.from_dict(
        {
            "apiVersion": "aijob.dev/v1alpha1",
            "kind": "AIJob",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


Create = Callable[[str], Awaitable[None]]


CALLS: list[float] = []
"""Durations of the benchmark's own create calls (the API server's latency as a client sees it)."""


async def burst(create: Create, names: list[str]) -> dict[str, float]:
    """Create every item, CONCURRENCY in flight; return when each create returned."""
    returned: dict[str, float] = {}
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(name: str) -> None:
        async with gate:
            sent = time.perf_counter()
            await create(name)
            returned[name] = time.perf_counter()
            CALLS.append(returned[name] - sent)

    await asyncio.gather(*(one(name) for name in names))
    return returned


async def paced(create: Create, names: list[str], rate: float) -> dict[str, float]:
    """Create items at a steady rate (not waiting for slow answers to send the next)."""
    returned: dict[str, float] = {}
    start = time.perf_counter()
    tasks = []

    async def one(name: str) -> None:
        sent = time.perf_counter()
        await create(name)
        returned[name] = time.perf_counter()
        CALLS.append(returned[name] - sent)

    for number, name in enumerate(names):
        delay = start + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(name)))
    await asyncio.gather(*tasks)
    return returned


async def wait_jobs_complete(
    client: AsyncClient, namespace: str, count: int, within: float
) -> float:
    start = time.perf_counter()
    while True:
        done = 0
        async for job in client.list(Job, namespace=namespace):
            conditions = (job.status.conditions if job.status else None) or []
            done += any(c.type == "Complete" and c.status == "True" for c in conditions)
        if done >= count:
            return time.perf_counter() - start
        if time.perf_counter() - start > within:
            raise TimeoutError(f"{done}/{count} Jobs complete in {namespace}")
        await asyncio.sleep(2)


async def wait_aijobs_succeeded(
    operator: Operator, count: int, within: float, phase: str = "Succeeded"
) -> float:
    """Wait until the operator's gauge shows `count` AIJobs in a phase (cheap for 10,000)."""
    start = time.perf_counter()
    while True:
        values = operator.metrics()
        succeeded = sum(
            value
            for key, value in values.items()
            if key.startswith("aijob_jobs{") and f"phase={phase}" in key
        )
        if succeeded >= count:
            return time.perf_counter() - start
        if time.perf_counter() - start > within:
            raise TimeoutError(f"{succeeded}/{count} AIJobs {phase}")
        await asyncio.sleep(2)


async def make_namespace(client: AsyncClient, name: str) -> str:
    await client.create(
        Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/benchmark": "true"}))
    )
    return name


# --- the arms -----------------------------------------------------------------------------


async def run_size(
    client: AsyncClient, size: int, rate: float, run_id: str, log: Path, env: dict[str, str]
) -> dict[str, Any]:
    names = [f"b{number:05d}" for number in range(size)]
    ns = {
        arm: await make_namespace(client, f"bench-{run_id}-{size}-{arm}")
        for arm in ("jobs", "aijobs", "paced-jobs", "paced-aijobs")
    }
    operator = Operator([ns["aijobs"], ns["paced-aijobs"]], log, env)
    operator.start()
    result: dict[str, Any] = {"n": size, "namespaces": ns}
    try:
        await operator.ready()
        result["operator_at_ready"] = {
            key: round(value, 2) for key, value in operator.memory_and_cpu().items()
        }

        async def create_job(namespace: str) -> Create:
            async def create(name: str) -> None:
                await client.create(baseline_job(name, namespace))

            return create

        async def create_aijob(namespace: str) -> Create:
            async def create(name: str) -> None:
                await client.create(aijob_manifest(name, namespace))

            return create

        # 1 + 3: bursts, with the API server's write counters around each full lifecycle.
        for arm, factory in (("jobs", create_job), ("aijobs", create_aijob)):
            watch = JobWatch(client, ns[arm])
            await watch.start()
            CALLS.clear()
            load_before = os.getloadavg()[0]
            writes_before = apiserver_writes()
            operator_before = operator.metrics()
            started = time.perf_counter()
            returned = await burst(await factory(ns[arm]), names)
            await watch.wait_for(size, within=600)
            elapsed = max(watch.seen.values()) - started
            if arm == "jobs":
                lifecycle = await wait_jobs_complete(client, ns[arm], size, within=1800)
            else:
                lifecycle = await wait_aijobs_succeeded(operator, size, within=1800)
            await asyncio.sleep(3)  # the last status writes and Events land
            result[f"burst_{arm}"] = {
                "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "client_create_call": latency_summary(CALLS),
                "seconds_to_last_job": round(elapsed, 2),
                "jobs_per_second": round(size / elapsed, 1),
                "create_to_job_seen": latency_summary(
                    [watch.seen[name] - returned[name] for name in names]
                ),
                "seconds_until_all_finished_after_last_job": round(lifecycle, 1),
                "apiserver_writes_per_item": per_item(writes_before, apiserver_writes(), size),
            }
            if arm == "aijobs":
                result["burst_aijobs"]["operator_writes_per_aijob"] = operator_writes(
                    operator_before, operator.metrics(), size
                )
            await watch.stop()
        result["throughput_ratio"] = round(
            result["burst_aijobs"]["jobs_per_second"] / result["burst_jobs"]["jobs_per_second"], 3
        )

        # 2: paced latency.
        for arm, factory in (("paced-jobs", create_job), ("paced-aijobs", create_aijob)):
            watch = JobWatch(client, ns[arm])
            await watch.start()
            CALLS.clear()
            load_before = os.getloadavg()[0]
            returned = await paced(await factory(ns[arm]), names, rate)
            await watch.wait_for(size, within=600)
            result[arm.replace("-", "_")] = {
                "rate_per_second": rate,
                "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "client_create_call": latency_summary(CALLS),
                "create_to_job_seen": latency_summary(
                    [watch.seen[name] - returned[name] for name in names]
                ),
            }
            await watch.stop()
        result["operator_process"] = {
            key: round(value, 1) for key, value in operator.memory_and_cpu().items()
        }
    finally:
        operator.stop()
    return result


async def run_rss(
    client: AsyncClient,
    count: int,
    rate: float,
    run_id: str,
    log: Path,
    queue: str | None,
    env: dict[str, str],
) -> dict[str, Any]:
    namespace = await make_namespace(client, f"bench-{run_id}-rss")
    names = [f"r{number:05d}" for number in range(count)]
    operator = Operator([namespace], log, env)
    operator.start()
    # With a Kueue queue named (Kueue is not installed), every Job stays suspended: 10,000
    # AIJobs and Jobs without 10,000 pod lifecycles on the shared machine.
    settled = "Queued" if queue else "Succeeded"
    result: dict[str, Any] = {
        "aijobs": count,
        "namespace": namespace,
        "rate_per_second": rate,
        "queue": queue,
        "settled_phase": settled,
        "rss_mib_every_1000_created": [],
    }
    try:
        await operator.ready()
        idle = operator.memory_and_cpu()

        async def create(name: str) -> None:
            for attempt in range(5):
                try:
                    await client.create(aijob_manifest(name, namespace, queue))
                    if name.endswith("999"):
                        result["rss_mib_every_1000_created"].append(
                            round(operator.memory_and_cpu()["VmRSS"], 1)
                        )
                    return
                except (httpx.HTTPError, ApiError) as error:
                    if isinstance(error, ApiError) and error.status.code == 409:
                        return
                    await asyncio.sleep(1 + attempt)

        started = time.perf_counter()
        await paced(create, names, rate)
        await wait_aijobs_succeeded(operator, count, within=7200, phase=settled)
        result["seconds_to_all_settled"] = round(time.perf_counter() - started, 1)
        await asyncio.sleep(5)
        running = operator.memory_and_cpu()
        operator.stop()

        restarted = Operator([namespace], log, env)
        restarted.start()
        try:
            await restarted.ready(within=600)
            restart_started = time.perf_counter()
            await wait_aijobs_succeeded(restarted, count, within=1800, phase=settled)
            await asyncio.sleep(10)
            after_restart = restarted.memory_and_cpu()
            result["restart_seconds_to_full_store"] = round(
                time.perf_counter() - restart_started, 1
            )
        finally:
            restarted.stop()
        result["rss_mib"] = {
            "idle_before_any_aijob": round(idle["VmRSS"], 1),
            "with_all_present": round(running["VmRSS"], 1),
            "peak_while_creating_them": round(running["VmHWM"], 1),
            "after_restart_with_all_present": round(after_restart["VmRSS"], 1),
            "peak_during_restart": round(after_restart["VmHWM"], 1),
        }
        result["operator_cpu_seconds"] = round(running["cpu_seconds"], 1)
    finally:
        operator.stop()
    return result


async def delete_namespaces(client: AsyncClient, run_id: str) -> None:
    async for namespace in client.list(Namespace, labels={"aijob.dev/benchmark": "true"}):
        name = namespace.metadata.name if namespace.metadata else ""
        if name and name.startswith(f"bench-{run_id}-"):
            with contextlib.suppress(ApiError):
                await client.delete(Namespace, name)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    client = AsyncClient(
        config=KubeConfig.from_file(kubeconfig_path()), field_manager="aijob-bench"
    )
    run_id = uuid.uuid4().hex[:6]
    log = Path(args.log)
    report: dict[str, Any] = {
        "benchmark": "operator_throughput",
        "run_id": run_id,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "concurrency": CONCURRENCY,
        "worker_identity": args.worker_identity,
        "sizes": [],
    }
    scratch = tempfile.TemporaryDirectory(prefix="aijob-bench-")
    env = status_channel_env(Path(scratch.name)) if args.worker_identity == "channel" else {}
    try:
        for size in args.sizes:
            print(f"== N={size}", flush=True)
            outcome = await run_size(client, size, args.rate, run_id, log, env)
            report["sizes"].append(outcome)
            print(json.dumps(outcome, indent=2), flush=True)
        if args.rss_aijobs:
            print(f"== RSS with {args.rss_aijobs} AIJobs", flush=True)
            report["rss"] = await run_rss(
                client, args.rss_aijobs, args.rss_rate, run_id, log, args.rss_queue, env
            )
            print(json.dumps(report["rss"], indent=2), flush=True)
    finally:
        await delete_namespaces(client, run_id)
        await client.close()
        scratch.cleanup()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="*", default=[200, 1000])
    parser.add_argument("--rate", type=float, default=10.0, help="paced arm: items per second")
    parser.add_argument(
        "--rss-aijobs", type=int, default=0, help="AIJobs for the RSS run (0: skip)"
    )
    parser.add_argument("--rss-rate", type=float, default=20.0)
    parser.add_argument(
        "--rss-queue", default=None, help="a Kueue queue for the RSS run (Jobs stay suspended)"
    )
    parser.add_argument(
        "--worker-identity",
        choices=("channel", "rbac"),
        default="channel",
        help="channel: the status channel (the chart's default); rbac: a per-job identity",
    )
    parser.add_argument("--log", default="/tmp/aijob-operator-bench.log")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    prepared_cluster()
    compile_bytecode()  # the operator's CPU as its image runs it: from compiled bytecode
    report = asyncio.run(main_async(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = {}
    if args.output.exists():
        existing = json.loads(args.output.read_text())
    if not args.sizes and "rss" in report:
        existing["rss"] = report["rss"]  # an RSS-only run keeps the sizes of the last full run
        report = existing
    write_report(args.output, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
