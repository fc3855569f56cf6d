"""Prometheus metrics of one gateway app (its own registry, so apps in one process do not clash)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        self.jobs_submitted = Counter(
            "aijob_gateway_jobs_submitted_total",
            "Submissions, by outcome (created, replayed).",
            ["outcome"],
            registry=self.registry,
        )
