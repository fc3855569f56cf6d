"""Benchmark of online inference on the real node, each number a ratio against a baseline
measured in the same run, against aijob's chart installed for real (release
`aijob-bench`, its own namespaces, removed at the end).

1. Warm synchronous inference of the random forest of examples/train-sklearn.yaml
   (one record per request, 4 in flight = the endpoint's per-replica concurrency):
   through the gateway (`POST /v1/endpoints/{name}/infer` on its Service) vs straight to
   the replica (its JSON route on the pod's IP) vs today's way, an inference AIJob per
   request (examples/inference-sklearn.yaml with one record; POST to Succeeded).
2. Micro-batching: the PyTorch MLP of examples/train-pytorch.yaml at 32 concurrent
   requests, `maxBatchSize` 32 vs 1, straight to the replica and through the gateway.
3. Priorities: a burst of mixed high/normal/low requests at once, far more than the
   replica takes, through the gateway; latency by priority.

The client is aiohttp in asyncio closed loops (benchmarks/inference_load.py), in 2
processes for the 32-concurrency runs; it runs on the node, beside the pods. Each
replica gets 1 CPU (request = limit); the gateway has no CPU limit.

Usage, from the repository root, with the local cluster's real node and images up:
uv run --frozen python -m benchmarks.inference_bench [--requests N] [--aijobs N]
Writes benchmarks/results/inference.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from typing import Any

import httpx
import yaml
from lightkube import Client, KubeConfig
from lightkube.resources.core_v1 import Pod
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.inference_load import (
    LoadResult,
    Target,
    closed_loop,
    pod_cpu_seconds,
    priority_burst,
)
from benchmarks.support import REPO_ROOT, RESULTS_DIR, kubeconfig_path, latency_summary
from tests.support.release import (
    LOAD_TEST_RATE_LIMIT,
    PYTORCH_IMAGE,
    REQUIRED_IMAGES,
    Release,
    gateway_service_url,
    install_release,
    mint_api_key,
    missing_prerequisites,
    uninstall_release,
)

RESULTS = RESULTS_DIR / "inference.json"
RELEASE = Release(name="aijob-bench", namespace="aijob-bench", tenant="aijob-bench-jobs")
SETOSA = [5.1, 3.5, 1.4, 0.2]
WARM_CONCURRENCY = 4
BATCH_CONCURRENCY = 32
POD_PORT = 8080
WAIT_S = 600


def example_spec(name: str) -> dict[str, Any]:
    """The spec of an examples/ file."""
    spec: dict[str, Any] = yaml.safe_load((REPO_ROOT / "examples" / name).read_text())["spec"]
    return spec


def endpoint_spec(training: str, *, concurrency: int, batch: int, memory: str) -> dict[str, Any]:
    """One replica (and no more: no autoscaling) with a whole CPU serving `training`'s model."""
    return {
        "model": {"source": {"trainingJob": training}},
        "replicas": 1,
        "minReplicas": 1,
        "maxReplicas": 1,
        "resources": {"cpu": "1", "memory": memory},
        "priority": "high",  # other work on the shared node must not preempt the measure
        "concurrency": concurrency,
        "batching": {"maxBatchSize": batch, "maxWaitMilliseconds": 2},
        "requestTimeoutSeconds": 30,
    }


class Bench:
    """The installed release, its tenant's key, and the calls the arms make."""

    def __init__(self, kube: Client, gateway: str, key: str) -> None:
        self.kube = kube
        self.gateway = gateway
        self.headers = {"Authorization": f"Bearer {key}"}
        self.api = httpx.Client(base_url=gateway, headers=self.headers, timeout=30)

    def until(self, what: str, check: Any, interval: float = 0.5) -> Any:
        """Poll `check()` until it returns something truthy (fails after WAIT_S)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if value := check():
                return value
            time.sleep(interval)
        raise TimeoutError(f"{what}: not after {WAIT_S}s")

    def phase(self, kind: str, name: str) -> str | None:
        answer = self.api.get(f"/v1/{kind}/{name}")
        phase: str | None = (answer.json().get("status") or {}).get("phase")
        if phase == "Failed":
            raise RuntimeError(f"{kind} {name} Failed: {answer.json()['status'].get('message')}")
        return phase

    def submit(self, name: str, spec: dict[str, Any]) -> None:
        response = self.api.post("/v1/jobs", json={"name": name, "spec": spec})
        response.raise_for_status()

    def train(self, jobs: dict[str, dict[str, Any]]) -> None:
        for name, spec in jobs.items():
            self.submit(name, spec)
        for name in jobs:
            self.until(f"{name} Succeeded", lambda n=name: self.phase("jobs", n) == "Succeeded")

    def serve(self, name: str, spec: dict[str, Any]) -> str:
        """Create the endpoint, wait until Ready; its replica's JSON route URL."""
        response = self.api.post("/v1/endpoints", json={"name": name, "spec": spec})
        response.raise_for_status()
        self.until(f"endpoint {name} Ready", lambda: self.phase("endpoints", name) == "Ready")
        (pod,) = self.pods(name)
        assert pod.status is not None
        return f"http://{pod.status.podIP}:{POD_PORT}"

    def pods(self, name: str) -> list[Pod]:
        labels: dict[str, Any] = {"aijob.dev/endpoint": name}
        listed = self.kube.list(Pod, namespace=RELEASE.tenant, labels=labels)
        return [pod for pod in listed if pod.metadata and not pod.metadata.deletionTimestamp]

    def unserve(self, name: str) -> None:
        self.api.delete(f"/v1/endpoints/{name}").raise_for_status()
        self.until(f"{name}'s pods gone", lambda: not self.pods(name))

    def gateway_uid(self) -> str:
        labels: dict[str, Any] = {
            "app.kubernetes.io/instance": RELEASE.name,
            "app.kubernetes.io/component": "gateway",
        }
        (pod,) = self.kube.list(Pod, namespace=RELEASE.namespace, labels=labels)
        assert pod.metadata is not None
        return str(pod.metadata.uid)

    def measured(
        self,
        target: Target,
        uids: dict[str, str],
        *,
        requests: int,
        concurrency: int,
        processes: int,
    ) -> dict[str, Any]:
        """A closed loop, with the CPU milliseconds per request of each pod and the client."""
        before = {role: pod_cpu_seconds(uid) for role, uid in uids.items()}
        result: LoadResult = closed_loop(
            target, requests=requests, concurrency=concurrency, processes=processes
        )
        answered = max(1, result.measurement.requests)
        cpu = {"client": round(result.client_cpu_seconds * 1000 / answered, 3)}
        for role, uid in uids.items():
            after, start = pod_cpu_seconds(uid), before[role]
            if after is not None and start is not None:
                cpu[role] = round((after - start) * 1000 / answered, 3)
        return {**asdict(result.measurement), "cpu_ms_per_request": cpu}


def pod_uid(pods: list[Pod]) -> str:
    (pod,) = pods
    assert pod.metadata is not None
    return str(pod.metadata.uid)


def warm_arms(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    name = "iris-warm"
    pod_url = bench.serve(
        name, endpoint_spec("iris-forest", concurrency=WARM_CONCURRENCY, batch=32, memory="512Mi")
    )
    body = {"records": [SETOSA]}
    targets = {
        "pod": Target(f"{pod_url}/v1/models/{name}/predict", body, {}),
        "gateway": Target(f"{bench.gateway}/v1/endpoints/{name}/infer", body, bench.headers),
    }
    uids = {"replica": pod_uid(bench.pods(name)), "gateway": bench.gateway_uid()}
    for target in targets.values():  # warm-up: connections, the model's first calls
        closed_loop(target, requests=200, concurrency=WARM_CONCURRENCY)
    rounds: dict[str, list[dict[str, Any]]] = {"pod": [], "gateway": []}
    for _ in range(args.rounds):  # interleaved, so drift hits both alike
        for arm, target in targets.items():
            rounds[arm].append(
                bench.measured(
                    target, uids, requests=args.requests, concurrency=WARM_CONCURRENCY, processes=1
                )
            )
    best = {
        arm: max(runs, key=lambda run: run["requests_per_second"]) for arm, runs in rounds.items()
    }
    priorities = ["high", "normal", "low"] * (args.burst // 3)
    by_priority = priority_burst(
        f"{bench.gateway}/v1/endpoints/{name}/infer", body, bench.headers, priorities
    )
    bench.unserve(name)
    return {
        "pod": best["pod"],
        "gateway": best["gateway"],
        "rounds": rounds,
        "throughput_ratio": round(
            best["gateway"]["requests_per_second"] / best["pod"]["requests_per_second"], 3
        ),
        "added_p50_ms": round(best["gateway"]["p50_ms"] - best["pod"]["p50_ms"], 2),
        "priority_burst": {
            "requests": len(priorities),
            "concurrency": WARM_CONCURRENCY,
            **by_priority,
        },
    }


def aijob_arm(bench: Bench, count: int) -> dict[str, Any]:
    """Inference AIJobs one after another, each predicting one record: POST to Succeeded."""
    spec = example_spec("inference-sklearn.yaml")
    spec["input"]["records"] = [SETOSA]
    latencies, timings = [], []
    for index in range(count):
        name = f"predict-{index}"
        started = time.perf_counter()
        bench.submit(name, spec)
        bench.until(f"{name} Succeeded", lambda n=name: bench.phase("jobs", n) == "Succeeded", 0.05)
        latencies.append(time.perf_counter() - started)
        timings.append(bench.api.get(f"/v1/jobs/{name}").json()["status"]["results"]["timings"])
    return {**latency_summary(latencies), "job_timings_ms": timings}


def batch_statistics(pod_url: str) -> tuple[float, float]:
    """(requests batched, batches) so far, from the replica's metrics."""
    text = httpx.get(f"{pod_url}/metrics").text
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("aijob_serve_batch_requests_")
    }
    return values["aijob_serve_batch_requests_sum"], values["aijob_serve_batch_requests_count"]


def batching_arms(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    records = example_spec("inference-pytorch.yaml")["input"]["records"]
    body = {"records": [records[0]]}
    arms: dict[str, Any] = {}
    for batch in (32, 1):
        name = f"digits-batch-{batch}"
        spec = endpoint_spec("digits-mlp", concurrency=BATCH_CONCURRENCY, batch=batch, memory="1Gi")
        pod_url = bench.serve(name, spec)
        targets = {
            "pod": Target(f"{pod_url}/v1/models/{name}/predict", body, {}),
            "gateway": Target(f"{bench.gateway}/v1/endpoints/{name}/infer", body, bench.headers),
        }
        uids = {"replica": pod_uid(bench.pods(name)), "gateway": bench.gateway_uid()}
        closed_loop(targets["pod"], requests=300, concurrency=BATCH_CONCURRENCY, processes=2)
        arm: dict[str, Any] = {}
        for route, target in targets.items():
            sums = batch_statistics(pod_url)
            arm[route] = bench.measured(
                target,
                uids,
                requests=args.batch_requests,
                concurrency=BATCH_CONCURRENCY,
                processes=2,
            )
            now = batch_statistics(pod_url)
            arm[route]["requests_per_batch"] = round(
                (now[0] - sums[0]) / max(1.0, now[1] - sums[1]), 2
            )
        arms[f"max_batch_size_{batch}"] = arm
        bench.unserve(name)
    on, off = arms["max_batch_size_32"], arms["max_batch_size_1"]
    return {
        **arms,
        "throughput_ratio": {
            route: round(on[route]["requests_per_second"] / off[route]["requests_per_second"], 3)
            for route in ("pod", "gateway")
        },
    }


def verdict(target: str, measured: Any, met: bool) -> dict[str, Any]:
    """A target of issue 12, the value this run measured and whether it was met."""
    return {"target": target, "measured": measured, "met": met}


def verdicts(
    warm: dict[str, Any], aijob: dict[str, Any], batching: dict[str, Any]
) -> dict[str, Any]:
    """Each target with its measured value and whether it was met."""
    ratio, added = warm["throughput_ratio"], warm["added_p50_ms"]
    speedup = round(aijob["p50_ms"] / warm["gateway"]["p50_ms"], 1)
    batched = batching["throughput_ratio"]
    p99 = {level: warm["priority_burst"][level]["p99_ms"] for level in ("high", "normal", "low")}
    return {
        "gateway_throughput_vs_pod": verdict(">= 0.5", ratio, ratio >= 0.5),
        "gateway_added_p50_ms": verdict("<= 10", added, added <= 10),
        "warm_vs_aijob_p50": verdict(">= 50", speedup, speedup >= 50),
        "batching_throughput_pod": verdict(">= 2", batched["pod"], batched["pod"] >= 2),
        "batching_throughput_gateway": verdict(">= 2", batched["gateway"], batched["gateway"] >= 2),
        "priority_p99_order": verdict(
            "high < normal < low", p99, p99["high"] < p99["normal"] < p99["low"]
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=1500, help="warm requests per round and arm"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-requests", type=int, default=3000)
    parser.add_argument("--burst", type=int, default=240, help="requests of the priority burst")
    parser.add_argument("--aijobs", type=int, default=3, help="inference AIJobs, one at a time")
    args = parser.parse_args()

    os.environ["KUBECONFIG"] = kubeconfig_path()  # helm and kubectl read it
    kube = Client(config=KubeConfig.from_file(kubeconfig_path()), field_manager="aijob-bench")
    reason = missing_prerequisites(kube, (*REQUIRED_IMAGES, PYTORCH_IMAGE))
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    started = time.monotonic()
    install_release(kube, RELEASE, *LOAD_TEST_RATE_LIMIT)
    try:
        bench = Bench(kube, gateway_service_url(kube, RELEASE), mint_api_key(RELEASE))
        bench.until("the key is accepted", lambda: bench.api.get("/v1/jobs").status_code == 200)
        bench.train({
            "iris-forest": example_spec("train-sklearn.yaml"),
            "digits-mlp": example_spec("train-pytorch.yaml"),
        })  # fmt: skip
        warm = warm_arms(bench, args)
        aijob = aijob_arm(bench, args.aijobs)
        batching = batching_arms(bench, args)
    finally:
        uninstall_release(kube, RELEASE)
    result = {
        "benchmark": "inference",
        "tool": (
            "asyncio closed loops on aiohttp (HTTP/1.1 keep-alive) in 1 or 2 client processes "
            "on the real node; pods' CPU from their cgroups"
        ),
        "settings": {
            **vars(args),
            "warm_concurrency": WARM_CONCURRENCY,
            "batch_concurrency": BATCH_CONCURRENCY,
            "replica_cpu": "1",
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "seconds": round(time.monotonic() - started, 1),
        "warm": warm,
        "inference_aijob": {
            **aijob,
            "speedup_vs_gateway_p50": round(aijob["p50_ms"] / warm["gateway"]["p50_ms"], 1),
        },
        "batching": batching,
        "targets": verdicts(warm, aijob, batching),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["targets"], indent=2))
    print(f"written to {RESULTS.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
