"""Prometheus metrics of the operator, served on `/metrics` (port from the settings).

Counters and histograms are module-level (one registry per process); the gauges of
AIJobs by phase and of the work queue are read from the live store at scrape time
by a collector registered at start-up and removed at clean-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from aijob_api.models import AIJob
from aijob_api.status import AIJobStatus
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from aijob_operator.store import AIJobStore
from aijob_operator.workqueue import WorkQueue

_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_WAIT_BUCKETS: Final = (0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)

RECONCILE_SECONDS: Final = Histogram(
    "aijob_operator_reconcile_duration_seconds",
    "Time of one reconcile of one AIJob, by outcome.",
    ["outcome"],
    buckets=_LATENCY_BUCKETS,
)
WORKQUEUE_WAIT_SECONDS: Final = Histogram(
    "aijob_operator_workqueue_wait_seconds",
    "Time an AIJob key waited in the work queue before a worker took it.",
    buckets=_LATENCY_BUCKETS,
)
API_REQUESTS: Final = Counter(
    "aijob_operator_api_requests_total",
    "Requests the operator's reconciler sent to the Kubernetes API, by verb, resource and code.",
    ["verb", "resource", "code"],
)
API_REQUEST_SECONDS: Final = Histogram(
    "aijob_operator_api_request_duration_seconds",
    "Time of the reconciler's requests to the Kubernetes API, by verb and resource.",
    ["verb", "resource"],
    buckets=_LATENCY_BUCKETS,
)
TRANSITIONS: Final = Counter(
    "aijob_transitions_total",
    "Status transitions the operator recorded, by phase and reason.",
    ["phase", "reason"],
)
QUEUE_WAIT_SECONDS: Final = Histogram(
    "aijob_queue_wait_seconds",
    "Time from an AIJob's creation to its first running worker, by framework and priority.",
    ["framework", "priority"],
    buckets=_WAIT_BUCKETS,
)
JOB_CREATION_SECONDS: Final = Histogram(
    "aijob_job_creation_seconds",
    "Time from an AIJob's creation (second precision) to its Job's creation.",
    buckets=_LATENCY_BUCKETS,
)

STATUS_REPORTS: Final = Counter(
    "aijob_operator_status_reports_total",
    "Reports to the status server, by result: accepted, stale (older than one taken), or the "
    "refusal (too_large, unauthenticated, forbidden, not_found, conflict, rate_limited, "
    "invalid, not_leader, unavailable).",
    ["result"],
)
STATUS_REPORT_WRITES: Final = Counter(
    "aijob_operator_status_report_writes_total",
    "Status writes of workers' reports, by kind (coalesced, final) and outcome (written, "
    "retried, gone).",
    ["kind", "outcome"],
)
STATUS_REPORTS_PER_WRITE: Final = Histogram(
    "aijob_operator_status_reports_per_write",
    "Reports merged into one status write.",
    buckets=(1, 2, 5, 10, 20, 50, 100),
)


def observe_queue_wait(aijob: AIJob, desired: AIJobStatus) -> None:
    """The first time a start is recorded: how long the job waited to run."""
    started, created = desired.start_time, aijob.metadata.creation_timestamp
    if aijob.status.start_time is None and started is not None and created is not None:
        QUEUE_WAIT_SECONDS.labels(
            framework=str(desired.framework), priority=aijob.spec.priority.value
        ).observe(max(0.0, (started - created).total_seconds()))


class StateCollector(Collector):
    """Gauges read at scrape time: AIJobs by phase and framework, work-queue depth."""

    def __init__(self) -> None:
        self._store: AIJobStore | None = None
        self._queue: WorkQueue[tuple[str, str]] | None = None

    def attach(self, store: AIJobStore, queue: WorkQueue[tuple[str, str]]) -> None:
        """Report this operator's store and queue."""
        self._store, self._queue = store, queue

    def detach(self) -> None:
        """Report nothing (the operator stopped)."""
        self._store = self._queue = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the current gauges."""
        jobs = GaugeMetricFamily(
            "aijob_jobs",
            "AIJobs known to the operator, by phase and framework.",
            labels=["phase", "framework"],
        )
        depth = GaugeMetricFamily(
            "aijob_operator_workqueue_depth",
            "AIJob keys in the work queue, by state.",
            labels=["state"],
        )
        store, queue = self._store, self._queue
        if store is not None and queue is not None:
            for (phase, framework), count in sorted(store.phase_counts().items()):
                jobs.add_metric([phase, framework], count)
            depth.add_metric(["queued"], len(queue))
            depth.add_metric(["scheduled"], queue.scheduled)
            depth.add_metric(["processing"], queue.processing)
        yield jobs
        yield depth


STATE: Final = StateCollector()
"""The one state collector of the process (registered once, attached at start-up)."""
REGISTRY.register(STATE)
