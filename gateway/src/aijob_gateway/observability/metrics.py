"""Prometheus metrics of one gateway app (its own registry, so apps in one process do not clash).

The endpoints' dispatch figures (queue depth, in-flight, ready replicas) are read from
the dispatchers when scraped (`DispatchCollector`), not kept twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from aijob_gateway.dispatch.stats import DispatchStats

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class GatewayMetrics:
    """The gateway's collectors."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "aijob_gateway_requests_total",
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "aijob_gateway_request_duration_seconds",
            "Time to serve a request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.cached_jobs = Gauge(
            "aijob_gateway_cached_jobs",
            "AIJobs held by the watch-backed cache (all namespaces).",
            registry=self.registry,
        )
        self.cache_synced = Gauge(
            "aijob_gateway_cache_synced",
            "1 when the AIJob cache is synced with the API server.",
            registry=self.registry,
        )
        self.watch_restarts = Counter(
            "aijob_gateway_watch_restarts_total",
            "List/watch restarts, by reflector and reason.",
            ["reflector", "reason"],
            registry=self.registry,
        )
        self.invalid_jobs = Counter(
            "aijob_gateway_invalid_jobs_total",
            "AIJobs seen that do not parse with the models (not served).",
            registry=self.registry,
        )
        self.inference_requests = Counter(
            "aijob_gateway_inference_requests_total",
            "Inference requests ended, by namespace, endpoint, route (infer, v2) and outcome "
            "(ok, rejected by the replica, cancelled, or the problem: no-ready-pod, queue-full, "
            "deadline-exceeded, inference-failed).",
            ["namespace", "endpoint", "route", "outcome"],
            registry=self.registry,
        )
        self.inference_duration = Histogram(
            "aijob_gateway_inference_duration_seconds",
            "Time from an inference request's dispatch to its end (queue, retries, replica).",
            ["namespace", "endpoint", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inference_retries = Counter(
            "aijob_gateway_inference_retries_total",
            "Attempts retried on another replica after a replica's fault.",
            ["namespace", "endpoint"],
            registry=self.registry,
        )
        self.cached_endpoints = Gauge(
            "aijob_gateway_cached_endpoints",
            "AIEndpoints held by the watch-backed cache (all namespaces).",
            registry=self.registry,
        )
        self.invalid_endpoints = Counter(
            "aijob_gateway_invalid_endpoints_total",
            "AIEndpoints seen that do not parse with the models (not served).",
            registry=self.registry,
        )
        self.jobs_submitted = Counter(
            "aijob_gateway_jobs_submitted_total",
            "Submissions, by outcome (created, replayed).",
            ["outcome"],
            registry=self.registry,
        )

    def collect_dispatch(self, source: Callable[[], Iterable[EndpointFigures]]) -> None:
        """Serve the dispatchers' figures from `source` (namespace, endpoint, stats) on scrape."""
        self.registry.register(DispatchCollector(source))


EndpointFigures = tuple[str, str, DispatchStats]
"""(namespace, endpoint name, its dispatcher's snapshot)."""


class DispatchCollector(Collector):
    """Gauges of every endpoint's dispatcher, read at scrape time."""

    def __init__(self, source: Callable[[], Iterable[EndpointFigures]]) -> None:
        self._source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One sample per endpoint (and priority) of each gauge."""
        labels = ["namespace", "endpoint"]
        queued = GaugeMetricFamily(
            "aijob_gateway_endpoint_queue_depth",
            "Requests waiting for a free replica slot, by priority.",
            labels=[*labels, "priority"],
        )
        in_flight = GaugeMetricFamily(
            "aijob_gateway_endpoint_in_flight",
            "Requests holding a slot on a replica.",
            labels=labels,
        )
        ready = GaugeMetricFamily(
            "aijob_gateway_endpoint_ready_pods",
            "Replicas taking requests, as the gateway sees them.",
            labels=labels,
        )
        for namespace, endpoint, stats in self._source():
            for priority, depth in stats.queued_by_priority.items():
                queued.add_metric([namespace, endpoint, priority], depth)
            in_flight.add_metric([namespace, endpoint], stats.in_flight)
            ready.add_metric([namespace, endpoint], stats.ready_pods)
        yield from (queued, in_flight, ready)
