"""Load for the inference benchmark: closed loops of JSON POSTs in one or more client
processes, a burst of mixed priorities, and the CPU each side spent.

A run in several processes (so the client is not the bottleneck on a small machine)
starts every process's loop at one agreed instant on the system-wide monotonic clock;
its throughput is all requests over the span from the first start to the last end.
A pod's CPU time is read from its cgroup (cpuacct, the real node's kubelet layout:
the test process runs on the node).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.support import LoadRun, Measurement, latency_summary, run_closed_loop

CGROUP_CPU = Path("/sys/fs/cgroup/cpuacct/aijob/kubepods")
START_DELAY_S = 3.0
"""Time the client processes get to start before their loops begin together."""


@dataclass(frozen=True)
class Target:
    """Where to POST and what."""

    url: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class ProcessRun:
    """One client process's loop: its latencies, window on the monotonic clock, CPU."""

    latencies: list[float]
    errors: int
    started: float
    ended: float
    cpu_seconds: float


def _client_process(target: Target, requests: int, concurrency: int, start_at: float) -> ProcessRun:
    return asyncio.run(_client_loop(target, requests, concurrency, start_at))


async def _client_loop(
    target: Target, requests: int, concurrency: int, start_at: float
) -> ProcessRun:
    payload = json.dumps(target.body).encode()
    headers = {"Content-Type": "application/json", **target.headers}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def post(_: int) -> bool:
            async with session.post(target.url, data=payload) as response:
                await response.read()
                return response.status == 200

        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        cpu = _own_cpu_seconds()
        started = time.monotonic()
        run = await run_closed_loop(post, requests, concurrency)
        return ProcessRun(
            run.latencies, run.errors, started, time.monotonic(), _own_cpu_seconds() - cpu
        )


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class LoadResult:
    """A multi-process run: its figures and the clients' CPU seconds."""

    measurement: Measurement
    client_cpu_seconds: float


def closed_loop(
    target: Target, *, requests: int, concurrency: int, processes: int = 1
) -> LoadResult:
    """`requests` POSTs with `concurrency` in flight, split over `processes` clients."""
    context = multiprocessing.get_context("spawn")
    start_at = time.monotonic() + START_DELAY_S
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        futures = [
            pool.submit(
                _client_process,
                target,
                requests // processes,
                concurrency // processes,
                start_at,
            )
            for _ in range(processes)
        ]
        runs = [future.result() for future in futures]
    merged = LoadRun(
        latencies=[latency for run in runs for latency in run.latencies],
        seconds=max(run.ended for run in runs) - min(run.started for run in runs),
        errors=sum(run.errors for run in runs),
    )
    return LoadResult(
        Measurement.of(merged, concurrency),
        client_cpu_seconds=round(sum(run.cpu_seconds for run in runs), 3),
    )


async def _burst(
    url: str, body: dict[str, Any], headers: dict[str, str], priorities: Sequence[str]
) -> list[tuple[str, int, float]]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(priority: str) -> tuple[str, int, float]:
            started = time.perf_counter()
            async with session.post(url, json={**body, "priority": priority}) as response:
                await response.read()
                return priority, response.status, time.perf_counter() - started

        return await asyncio.gather(*(one(priority) for priority in priorities))


def priority_burst(
    url: str, body: dict[str, Any], headers: dict[str, str], priorities: Sequence[str]
) -> dict[str, Any]:
    """Every request at once, one per entry of `priorities`; latency by priority."""
    answers = asyncio.run(_burst(url, body, headers, priorities))
    by_priority: dict[str, Any] = {}
    for level in dict.fromkeys(priorities):
        answered = [(status, seconds) for p, status, seconds in answers if p == level]
        by_priority[level] = {
            **latency_summary([seconds for status, seconds in answered if status == 200]),
            "not_ok": sum(1 for status, _ in answered if status != 200),
        }
    return by_priority


def pod_cpu_seconds(uid: str) -> float | None:
    """CPU seconds a pod has used so far (its cgroup), or None where it cannot be read."""
    for usage in CGROUP_CPU.glob(f"**/pod{uid}/cpuacct.usage"):
        return int(usage.read_text()) / 1e9
    return None
