"""The API server stopped for 30 s mid-run (issue 15 item 7): 20 AIJobs running on KWOK nodes
and one real worker training and reporting; the kube-apiserver process stopped, then started
again with its own flags (tests/support/api_server.py). Every job finishes, no Job is made
twice, every report the worker made before and during the outage is in the status, and the
operator writes again within 10 s of the API server's return (the figure is printed:
`pytest -s` shows it, docs/reliability.md has it).

This stops the API server for everyone: run it alone, under the exclusive lock
(`flock -x /tmp/aijob-cluster.lock flock /tmp/aijob-e2e.lock uv run pytest ...`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from aijob_api.conditions import Phase
from kopf.testing import KopfRunner
from lightkube import ApiError, Client

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.integration.worker.support import WorkerProcess, worker_env
from tests.support.api_server import ApiServer
from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually

JOBS = 20
OUTAGE_SECONDS = 30
RESUME_LIMIT_SECONDS = 10
RUN = simulated({"aijob.dev/fake-run-seconds": "30"})
"""Each simulated pod runs 30 s: its end falls inside the outage, so the Job completes after it."""
TRAINING = {
    "model": {"type": "random_forest", "hyperparameters": {"nEstimators": 1600, "epochs": 160}},
    "dataset": {"name": "digits"},
}
"""The real worker's run (about 20 s here): it reports before the outage and trains on
through it; what it reported meanwhile, and its final results, are written after it."""
_UNREACHABLE = (httpx.TransportError, ApiError)
T = TypeVar("T")


@pytest.fixture
def api_server(cluster: ClusterInfo) -> ApiServer:
    server = ApiServer()
    if not cluster.local or not server.available():
        pytest.skip("stops the local cluster's kube-apiserver process (hack/cluster-up.sh)")
    return server


def _reachable(check: Callable[[], T]) -> Callable[[], T]:
    """A check that treats an API server not answering yet as 'not yet'."""

    def wrapped() -> T:
        try:
            return check()
        except _UNREACHABLE as error:
            raise AssertionError(f"API server not answering: {error!r}") from error

    return wrapped


def test_api_server_stopped_30s_mid_run(
    api_server: ApiServer,
    cluster: ClusterInfo,
    operator: KopfRunner,
    aijobs: AIJobs,
    kube: Client,
    namespace: str,
    tmp_path: Path,
) -> None:
    names = [f"outage-{number:02d}" for number in range(JOBS)]
    for name in names:
        aijobs.create(manifest(name, namespace, podTemplate=RUN))
    aijobs.create(manifest("reporter", namespace, podTemplate=RUN, **TRAINING))

    def all_running() -> bool:
        phases = {name: job.status.phase for name, job in aijobs.all().items()}
        behind = sorted(name for name, phase in phases.items() if phase is not Phase.RUNNING)
        assert not behind, f"not Running yet: {behind}"
        return True

    eventually(all_running, timeout=Timeout.SIMULATED_JOB, interval=0.5, what="all Running")
    before = aijobs.job_uids()
    assert len(before) == JOBS + 1

    reporter = aijobs.get("reporter")
    workdir = tmp_path / "worker"
    workdir.mkdir()
    env = worker_env(reporter, workdir, cluster.kubeconfig)
    run = WorkerProcess("sklearn", env, tmp_path / "worker.log")
    try:

        def reported() -> bool:
            assert run.running(), run.output()[-3000:]
            progress = aijobs.get("reporter").status.progress
            return progress is not None and (progress.epoch or 0) >= 1

        eventually(reported, timeout=Timeout.REAL_TRAINING, what="the worker's first report")

        outage_started = datetime.now().astimezone()
        with api_server.stopped():

            def a_write_failed() -> bool:
                assert run.running(), "the worker ended before the outage was over"
                return any(
                    str(event.get("message", "")).startswith("status write failed")
                    for event in run.events()
                )

            eventually(a_write_failed, timeout=Timeout.PROCESS, what="a worker write failing")
            remaining = OUTAGE_SECONDS - (time.monotonic() - (api_server.stopped_at or 0))
            eventually(
                lambda: time.monotonic() - (api_server.stopped_at or 0) >= OUTAGE_SECONDS,
                timeout=max(remaining, 0) + Timeout.API,
                interval=0.2,
                what=f"{OUTAGE_SECONDS} s of outage",
            )
            assert run.running(), "the worker must still be there when the API server returns"
        ready_at = api_server.ready_at
        assert ready_at is not None
        outage_ended = datetime.now().astimezone()

        # The first write of the operator after the API server's return: a phase changed
        # (its simulated pods ended during the outage) or the Job of an AIJob made now.
        # (/readyz says ok while the AIJobs' storage may still answer 429 for a moment.)
        eventually(
            _reachable(lambda: aijobs.create(manifest("after", namespace, podTemplate=RUN))),
            timeout=Timeout.API,
            interval=0.1,
            what="an AIJob created after the outage",
        )

        def operator_wrote() -> float:
            changed = any(  # all were Running before the outage
                job.status.phase is not Phase.RUNNING
                for name, job in aijobs.all().items()
                if name in names
            )
            assert changed or aijobs.job("after") is not None, "no operator write yet"
            return time.monotonic()

        first_write = eventually(
            _reachable(operator_wrote),
            timeout=Timeout.SIMULATED_JOB,
            interval=0.1,
            what="the operator's first write after the outage",
        )
        resumed = first_write - ready_at
        print(  # to the terminal: the in-process operator's runner captures sys.stdout
            f"\nAPI server stopped {ready_at - (api_server.stopped_at or 0):.1f} s; "
            f"API ready -> first operator write: {resumed:.2f} s; "
            f"control-plane components started again: {api_server.restarted or 'none'}",
            file=sys.__stdout__,
            flush=True,
        )
        assert resumed <= RESUME_LIMIT_SECONDS

        assert run.wait(timeout=Timeout.REAL_TRAINING) == 0, run.output()[-3000:]
        worker_epochs = run.epochs()
    finally:
        run.kill()

    def all_succeeded() -> bool:
        waiting = sorted(
            name for name, job in aijobs.all().items() if job.status.phase is not Phase.SUCCEEDED
        )
        assert not waiting, f"not Succeeded yet: {waiting}"
        return True

    eventually(_reachable(all_succeeded), timeout=Timeout.SIMULATED_JOB * 2, what="all Succeeded")

    after = aijobs.job_uids()
    assert {name: after[name] for name in before} == before, "a Job was deleted and made again"
    assert sorted(after) == sorted([*names, "reporter", "after"])
    for name, job in aijobs.all().items():
        assert (job.status.job_name, job.status.attempts) == (name, 1), name
        assert len(aijobs.pods(name)) == 1, f"{name} ran more than once"

    # No report lost: the final results, the last progress, and the metric points the
    # worker reported while the API server was away.
    status = aijobs.get("reporter").status
    assert worker_epochs == list(range(1, 161))
    assert status.results is not None
    assert status.results.metrics["epochsThisAttempt"] == 160
    assert status.progress is not None
    assert status.progress.percent == 100
    assert status.metric_history is not None
    start = status.metric_history.started_at
    during = [
        x
        for series in status.metric_history.series
        for x, offset in zip(series.x, series.seconds, strict=True)
        if outage_started < start + timedelta(seconds=offset) < outage_ended
    ]
    assert during, "no metric point reported during the outage reached the status"
