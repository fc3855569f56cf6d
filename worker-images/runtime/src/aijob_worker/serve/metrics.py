"""Prometheus metrics of the model server, on `GET /metrics` (one registry per server).

Requests by route and outcome, latency, batch sizes (records and requests),
stage times, in-flight requests, queue depth, readiness, the model served, and
injected faults; docs/serving.md lists them with their labels.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from aijob_worker.predict import StageTimes

LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
SIZE_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class ServeMetrics:
    """The server's metrics; also the batcher's observer."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "aijob_serve_requests",
            "Requests answered, by route and outcome (ok or the problem's slug).",
            ["route", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "aijob_serve_request_duration_seconds",
            "Seconds from a request's arrival to its answer.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "aijob_serve_batch_size",
            "Records per batch run through the model.",
            buckets=SIZE_BUCKETS,
            registry=registry,
        )
        self.batch_requests = Histogram(
            "aijob_serve_batch_requests",
            "Requests per batch run through the model.",
            buckets=SIZE_BUCKETS,
            registry=registry,
        )
        self.stage_seconds = Histogram(
            "aijob_serve_stage_duration_seconds",
            "Seconds per batch stage (prepare, infer, postprocess) and per request queue wait.",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "aijob_serve_in_flight_requests",
            "Inference requests held, queued or running.",
            registry=registry,
        )
        self.queue_depth = Gauge(
            "aijob_serve_queue_depth", "Requests waiting for a batch.", registry=registry
        )
        self.ready = Gauge(
            "aijob_serve_model_ready",
            "1 while the model is loaded and the server is not draining.",
            registry=registry,
        )
        self.model_info = Gauge(
            "aijob_serve_model_info",
            "The served model (always 1).",
            ["model", "model_type", "framework", "checksum"],
            registry=registry,
        )
        self.injected_faults = Counter(
            "aijob_serve_injected_faults",
            "Faults injected for tests, by mode.",
            ["mode"],
            registry=registry,
        )

    def answered(self, route: str, outcome: str, seconds: float) -> None:
        """Count an answered request and its latency."""
        self.requests.labels(route=route, outcome=outcome).inc()
        self.latency.labels(route=route).observe(seconds)

    def queue_changed(self, depth: int) -> None:
        """The batcher's queue depth."""
        self.queue_depth.set(depth)

    def batch_done(self, records: int, requests: int) -> None:
        """A batch ran."""
        self.batch_size.observe(records)
        self.batch_requests.observe(requests)

    def stages_timed(self, times: StageTimes) -> None:
        """A batch's stage times."""
        self.stage_seconds.labels(stage="prepare").observe(times.prepare_ms / 1000)
        self.stage_seconds.labels(stage="infer").observe(times.infer_ms / 1000)
        self.stage_seconds.labels(stage="postprocess").observe(times.postprocess_ms / 1000)

    def queued_for(self, milliseconds: float) -> None:
        """A request's wait before its batch started."""
        self.stage_seconds.labels(stage="queue").observe(milliseconds / 1000)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its media type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
