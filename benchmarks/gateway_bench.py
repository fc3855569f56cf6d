"""Benchmark of the gateway, each number a ratio against a baseline measured in the same run.

1. GET of one job's status through the gateway (auth, rate limit, metrics, access
   log, the watch-backed cache, response model) vs a bare FastAPI endpoint that
   returns the same JSON: requests/s ratio, p50 and p99 latency of each.
2. POST throughput: submitting jobs through the gateway vs creating the same AIJobs
   directly with lightkube's AsyncClient against the same API server.

Tool: an asyncio load loop on aiohttp's ClientSession (HTTP/1.1 keep-alive) with a fixed
number of concurrent workers, each sending requests back to back; latency is
measured per request with time.perf_counter. Both HTTP servers run uvicorn (one
process, default loop, access log of the gateway on as in production) in their own
processes on 127.0.0.1; the load loop runs in this process.

Usage, from the repository root:
uv run --frozen python -m benchmarks.gateway_bench [--requests N] [--concurrency C]
(needs the local cluster: KUBECONFIG or .cluster/kubeconfig; applies the AIJob CRD).
Writes benchmarks/results/gateway.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from dataclasses import asdict
from typing import Any

import aiohttp
import httpx
from aijob_gateway.keys import KeyAdmin
from aijob_kube.resources import AIJobResource
from lightkube import AsyncClient, Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from benchmarks.support import (
    RESULTS_DIR,
    ServiceProcess,
    apply_crd,
    free_port,
    kubeconfig_path,
    load,
)

RESULTS = RESULTS_DIR / "gateway.json"
SPEC = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}

BASELINE_APP = """
import json, sys
from fastapi import FastAPI
import uvicorn
document = json.loads(open(sys.argv[1]).read())
app = FastAPI()

@app.get("/v1/jobs/{name}")
async def job(name: str) -> dict:
    return document

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


async def measure_get(
    gateway_url: str, baseline_url: str, key: str, job: str, args: argparse.Namespace
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def fetch(url: str, request_headers: dict[str, str]) -> bool:
            async with session.get(url, headers=request_headers) as response:
                await response.read()
                return response.status == 200

        async def through_gateway(_: int) -> bool:
            return await fetch(f"{gateway_url}/v1/jobs/{job}", headers)

        async def through_baseline(_: int) -> bool:
            return await fetch(f"{baseline_url}/v1/jobs/{job}", {})

        await load(through_gateway, args.warmup, args.concurrency)
        await load(through_baseline, args.warmup, args.concurrency)
        gateway_runs, baseline_runs = [], []
        for _ in range(args.rounds):  # interleaved, so drift hits both alike
            gateway_runs.append(await load(through_gateway, args.requests, args.concurrency))
            baseline_runs.append(await load(through_baseline, args.requests, args.concurrency))
    gateway = max(gateway_runs, key=lambda m: m.requests_per_second)
    baseline = max(baseline_runs, key=lambda m: m.requests_per_second)
    return {
        "gateway": asdict(gateway),
        "bare_fastapi": asdict(baseline),
        "throughput_ratio": round(gateway.requests_per_second / baseline.requests_per_second, 3),
        "rounds": args.rounds,
        "best_of_rounds": True,
    }


async def measure_post(
    gateway_url: str, key: str, namespace: str, args: argparse.Namespace
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    run = uuid.uuid4().hex[:6]
    async with aiohttp.ClientSession(headers=headers) as session:

        async def through_gateway(index: int) -> bool:
            body = {"name": f"gw-{run}-{index}", "spec": SPEC}
            async with session.post(f"{gateway_url}/v1/jobs", json=body) as response:
                await response.read()
                return response.status == 201

        gateway = await load(through_gateway, args.posts, args.concurrency)
    client = AsyncClient(
        config=KubeConfig.from_file(kubeconfig_path()), field_manager="aijob-bench"
    )

    async def direct(index: int) -> bool:
        manifest = {
            "apiVersion": "aijob.dev/v1alpha1",
            "kind": "AIJob",
            "metadata": {"name": f"kc-{run}-{index}", "namespace": namespace},
            "spec": SPEC,
        }
        await client.create(AIJobResource.from_dict(manifest))
        return True

    try:
        direct_run = await load(direct, args.posts, args.concurrency)
    finally:
        await client.close()
    return {
        "gateway": asdict(gateway),
        "direct_kubernetes_client": asdict(direct_run),
        "throughput_ratio": round(gateway.requests_per_second / direct_run.requests_per_second, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="GETs per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--posts", type=int, default=300, help="jobs created each way")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    kube = Client(config=KubeConfig.from_file(kubeconfig_path()), field_manager="aijob-bench")
    apply_crd(kube)
    run = uuid.uuid4().hex[:8]
    # The gateway's own namespace holds the key Secret; the tenant's holds the jobs (a key
    # for the gateway's own namespace is refused).
    system, namespace = f"bench-gw-{run}", f"bench-gw-{run}-jobs"
    for name in (system, namespace):
        kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/bench": "true"})))
    processes: list[ServiceProcess] = []
    try:
        key = KeyAdmin(kube, system, "aijob-api-keys").create(namespace, "benchmark").key
        gateway_port, baseline_port = free_port(), free_port()
        env = {
            "KUBECONFIG": kubeconfig_path(),
            "AIJOB_GATEWAY_NAMESPACE": system,
            "AIJOB_GATEWAY_HOST": "127.0.0.1",
            "AIJOB_GATEWAY_PORT": str(gateway_port),
            "AIJOB_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
            "AIJOB_GATEWAY_RATE_LIMIT_BURST": "1000000",
            # Every request of the benchmark comes from 127.0.0.1.
            "AIJOB_GATEWAY_CLIENT_RATE_LIMIT_PER_SECOND": "1000000",
            "AIJOB_GATEWAY_CLIENT_RATE_LIMIT_BURST": "1000000",
        }
        gateway = ServiceProcess(["-m", "aijob_gateway"], env=env, name="the gateway")
        processes.append(gateway.start())
        gateway_url = f"http://127.0.0.1:{gateway_port}"
        gateway.wait_ready(f"{gateway_url}/readyz")  # its cache listed the AIJobs
        headers = {"Authorization": f"Bearer {key}"}
        while httpx.get(f"{gateway_url}/v1/jobs", headers=headers).status_code != 200:
            time.sleep(0.1)
        job = httpx.post(
            f"{gateway_url}/v1/jobs", json={"name": "bench-status", "spec": SPEC}, headers=headers
        ).json()
        document = httpx.get(f"{gateway_url}/v1/jobs/{job['name']}", headers=headers).json()
        snapshot = RESULTS_DIR / "gateway-job.json.tmp"
        snapshot.write_text(json.dumps(document))
        baseline = ServiceProcess(
            ["-c", BASELINE_APP, str(snapshot), str(baseline_port)], name="bare FastAPI"
        )
        processes.append(baseline.start())
        baseline_url = f"http://127.0.0.1:{baseline_port}"
        baseline.wait_ready(f"{baseline_url}/v1/jobs/x")
        get_result = asyncio.run(measure_get(gateway_url, baseline_url, key, job["name"], args))
        post_result = asyncio.run(measure_post(gateway_url, key, namespace, args))
        snapshot.unlink(missing_ok=True)
    finally:
        for process in processes:
            process.stop(timeout=30)
        for name in (system, namespace):
            kube.delete(Namespace, name)

    result = {
        "benchmark": "gateway",
        "tool": (
            "asyncio load loop on aiohttp.ClientSession (HTTP/1.1 keep-alive), fixed concurrency; "
            "servers: uvicorn, 1 process each, on 127.0.0.1"
        ),
        "settings": {
            "concurrency": args.concurrency,
            "get_requests_per_round": args.requests,
            "rounds": args.rounds,
            "warmup_requests": args.warmup,
            "posts": args.posts,
            "gateway_access_log": True,
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "get_status": get_result,
        "post_throughput": post_result,
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
