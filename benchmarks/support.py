"""What the benchmarks share: where results go, which cluster is measured, free ports,
percentiles, a closed-loop load generator (`load`: a fixed number of asyncio workers
sending requests back to back), a server process (the operator, the gateway, a baseline
app) started, awaited and stopped around a run, and the cluster prerequisites.

Every benchmark runs as a module from the repository root, e.g.
`uv run --frozen python -m benchmarks.gateway_bench`: `python -m` puts the working
directory on the import path, so `benchmarks` and `tests` import as packages and the
prerequisites come from tests/support (one source for the tests and the benchmarks)
without any edit of `sys.path`. Only the standard library and what tests/support needs
(PyYAML, lightkube, aijob-api) are imported here, so the worker images' environments
can run benchmarks too.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightkube import Client, KubeConfig

from tests.support.cluster import LOCAL_KUBECONFIG, REPO_ROOT
from tests.support.kubectl import kubectl_binary
from tests.support.prerequisites import apply_crd, ensure_priority_classes

__all__ = [
    "REPO_ROOT",
    "RESULTS_DIR",
    "LoadRun",
    "Measurement",
    "OperatorProcess",
    "ServiceProcess",
    "apply_crd",
    "compile_bytecode",
    "ensure_priority_classes",
    "free_port",
    "http_get",
    "kubeconfig_path",
    "kubectl_binary",
    "latency_summary",
    "load",
    "percentile",
    "prepared_cluster",
    "run_closed_loop",
    "write_report",
]

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
LOOPBACK = "127.0.0.1"


def kubeconfig_path() -> str:
    """The measured cluster: KUBECONFIG's first file when set, else the local cluster's."""
    configured = os.environ.get("KUBECONFIG")
    if configured:
        return str(Path(configured.split(os.pathsep)[0]).expanduser())
    return str(LOCAL_KUBECONFIG)


WORKSPACE_SOURCES = ("api", "kube", "operator", "gateway", "cli")
"""The workspace packages, installed editable: their modules are read from `<name>/src`."""
BYTECODE_SETTINGS = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")


def compile_bytecode() -> None:
    """Compile every module of this environment to bytecode, as the images do at build.

    A virtual environment used where PYTHONDONTWRITEBYTECODE is set (this project's shell
    and CI) keeps no bytecode, and each process then compiles what it imports from
    source at every start: more CPU than the rest of an operator's start, and nothing a
    pod from an image pays. The operator's CPU figures are measured after this.
    """
    paths = [sysconfig.get_paths()["purelib"]]
    paths += [str(REPO_ROOT / name / "src") for name in WORKSPACE_SOURCES]
    env = {key: value for key, value in os.environ.items() if key not in BYTECODE_SETTINGS}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *paths],
        env=env,
        stdout=subprocess.DEVNULL,
        check=False,  # a few files of some packages are not Python 3.11 (their test data)
    )


def prepared_cluster() -> Client:
    """A client of the measured cluster, with the AIJob CRD and aijob's PriorityClasses."""
    client = Client(config=KubeConfig.from_file(kubeconfig_path()), field_manager="aijob-bench")
    apply_crd(client)
    ensure_priority_classes(client)
    return client


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    """Write a benchmark's report as indented JSON (its folder made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` 0.5 for p50, 0.99 for p99); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Count, p50, p99, max and mean of latencies given in seconds, in milliseconds."""
    millis = [value * 1000 for value in seconds]
    return {
        "count": len(millis),
        "p50_ms": round(percentile(millis, 0.50), 1),
        "p99_ms": round(percentile(millis, 0.99), 1),
        "max_ms": round(max(millis), 1) if millis else math.nan,
        "mean_ms": round(statistics.fmean(millis), 1) if millis else math.nan,
    }


@dataclass
class Measurement:
    """Throughput and latency of one load run."""

    requests: int
    concurrency: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int

    @classmethod
    def of(cls, run: LoadRun, concurrency: int) -> Measurement:
        """The figures of a run's latencies over its wall time."""
        return cls(
            requests=len(run.latencies),
            concurrency=concurrency,
            seconds=round(run.seconds, 3),
            requests_per_second=round(len(run.latencies) / run.seconds, 1),
            p50_ms=round(percentile(run.latencies, 0.50) * 1000, 2),
            p99_ms=round(percentile(run.latencies, 0.99) * 1000, 2),
            errors=run.errors,
        )


@dataclass
class LoadRun:
    """What a load loop saw: each call's latency (seconds), its wall time, failed calls."""

    latencies: list[float]
    seconds: float
    errors: int


async def run_closed_loop(
    call: Callable[[int], Awaitable[bool]], requests: int, concurrency: int
) -> LoadRun:
    """Run `requests` calls with `concurrency` workers; each call returns success."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))

    async def worker() -> None:
        nonlocal errors
        for index in counter:
            started = time.perf_counter()
            ok = await call(index)
            latencies.append(time.perf_counter() - started)
            errors += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadRun(latencies, time.perf_counter() - started, errors)


async def load(
    call: Callable[[int], Awaitable[bool]], requests: int, concurrency: int
) -> Measurement:
    """`run_closed_loop`'s throughput and latency figures."""
    return Measurement.of(await run_closed_loop(call, requests, concurrency), concurrency)


def http_get(url: str, timeout: float = 10) -> tuple[int, str]:
    """Status and body of a GET (an HTTP error status is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


class ServiceProcess:
    """A server the benchmark runs in its own process (`python <arguments>`).

    Its output goes to `log` (appended) or nowhere; `wait_ready` polls a URL until the
    server answers, failing at once when the process has exited; `stop` terminates it,
    then kills it if it does not end in time.
    """

    def __init__(
        self,
        arguments: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
        name: str | None = None,
    ) -> None:
        self.arguments = [sys.executable, *arguments]
        self.env = {**os.environ, **(env or {})}
        self.log = log
        self.name = name or " ".join(arguments[:2])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        """Start the process; returns self."""
        if self.log is None:
            self.process = subprocess.Popen(
                self.arguments, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        else:
            with self.log.open("ab") as output:
                self.process = subprocess.Popen(
                    self.arguments, env=self.env, stdout=output, stderr=subprocess.STDOUT
                )
        return self

    @property
    def pid(self) -> int:
        """The running process's id."""
        if self.process is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.process.pid

    def wait_ready(
        self,
        url: str,
        *,
        timeout: float = 60,
        ready: Callable[[int], bool] = lambda status: status == 200,
    ) -> None:
        """Poll `url` until `ready(status)`; raise when the process ends or time runs out."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is not None and (code := self.process.poll()) is not None:
                where = f"; see {self.log}" if self.log else ""
                raise RuntimeError(f"{self.name} exited with {code} before {url} answered{where}")
            try:
                status, body = http_get(url, timeout=2)
            except OSError as error:  # not listening yet
                last = str(error)
            else:
                if ready(status):
                    return
                last = f"{status} {body[:200]}"
            time.sleep(0.1)
        raise TimeoutError(f"{self.name}: {url} not ready after {timeout:.0f}s (last: {last})")

    def memory_and_cpu(self) -> dict[str, float]:
        """Resident and peak resident memory (MiB) and CPU seconds so far, from /proc."""
        fields: dict[str, float] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024  # kB -> MiB
        stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        fields["cpu_seconds"] = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        return fields

    def stop(self, timeout: float = 60) -> None:
        """Terminate the process (SIGTERM), then kill it after `timeout` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class OperatorProcess(ServiceProcess):
    """`python -m aijob_operator --namespace ...` with metrics and liveness on free ports."""

    def __init__(
        self, namespaces: Sequence[str], log: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.metrics_port = free_port()
        self.liveness_port = free_port()
        arguments = ["-m", "aijob_operator"]
        for namespace in namespaces:
            arguments += ["--namespace", namespace]
        arguments.append(f"--liveness=http://{LOOPBACK}:{self.liveness_port}/healthz")
        settings = {
            "KUBECONFIG": kubeconfig_path(),
            "AIJOB_OPERATOR_METRICS_PORT": str(self.metrics_port),
            "AIJOB_OPERATOR_METRICS_HOST": LOOPBACK,
            "AIJOB_OPERATOR_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        super().__init__(arguments, env=settings, log=log, name="the operator")

    def wait_live(self, timeout: float = 60) -> None:
        """Wait until the operator's liveness endpoint answers 200."""
        self.wait_ready(f"http://{LOOPBACK}:{self.liveness_port}/healthz", timeout=timeout)

    def metrics_text(self) -> str:
        """The operator's Prometheus exposition text."""
        status, body = http_get(f"http://{LOOPBACK}:{self.metrics_port}/metrics")
        if status != 200:
            raise RuntimeError(f"the operator's /metrics answered {status}")
        return body
