"""Synchronous inference: a request to an endpoint answered by one of its ready replicas.

The one entry point every inference route uses (this gateway's `/v1/endpoints/{name}/
infer` and Open Inference Protocol routes, and the seed-compatible routes built on
them): `infer(tenant, endpoint, records, priority=..., deadline=...)` for records,
`forward(...)` for a request passed through as it came. Both go through the endpoint's
dispatcher (least loaded ready replica, the priority queue, retries on another replica,
the deadline) and are counted in the gateway's metrics, whatever their outcome.

A deadline is a time on `time.monotonic()`'s clock (`deadline_after(seconds)` makes
one); it is capped by the endpoint's `spec.requestTimeoutSeconds`, which is also the
deadline when none is given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aijob_api.endpoint import AIEndpoint
from aijob_api.priority import Priority
from pydantic import JsonValue

from aijob_gateway.dispatch.contract import INTERNAL_ERROR, DispatchResult
from aijob_gateway.dispatch.errors import DispatchError
from aijob_gateway.observability.metrics import GatewayMetrics
from aijob_gateway.security.keys import Tenant
from aijob_gateway.services.endpoints import EndpointService
from aijob_gateway.services.inference_answers import Prediction, predict_request, prediction
from aijob_gateway.serving.transport import PodAnswer, PodRequest

OUTCOME_OK = "ok"
OUTCOME_REJECTED = "rejected"
"""A replica refused the request itself (a 4xx such as 422): answered, not retried."""
OUTCOME_CANCELLED = "cancelled"
"""The client went away before the answer."""


def deadline_after(seconds: float, clock: Callable[[], float] = time.monotonic) -> float:
    """The deadline `seconds` from now, on the clock the dispatchers use."""
    return clock() + seconds


class InferenceService:
    """Sends an endpoint's requests through its dispatcher and counts every outcome."""

    def __init__(self, endpoints: EndpointService, metrics: GatewayMetrics) -> None:
        self._endpoints = endpoints
        self._metrics = metrics

    async def infer(
        self,
        tenant: Tenant,
        name: str,
        records: list[JsonValue],
        *,
        priority: Priority | None = None,
        deadline: float | None = None,
    ) -> Prediction:
        """Predict `records` on a ready replica of the tenant's endpoint `name`.

        404 for an unknown endpoint; the dispatcher's problems (503 no ready replica,
        429 queue full, 504 deadline, 502 every attempt failed); a replica's refusal
        of a record as a 422 naming it.
        """
        endpoint = self._endpoints.get(tenant, name)
        request = predict_request(name, records)
        result = await self._dispatch(endpoint, request, priority, deadline, route="infer")
        return prediction(result)

    async def forward(
        self,
        tenant: Tenant,
        name: str,
        request: PodRequest,
        *,
        priority: Priority | None = None,
        deadline: float | None = None,
        route: str = "v2",
    ) -> DispatchResult[PodAnswer]:
        """Pass `request` to a ready replica of the tenant's endpoint; its answer as it came."""
        endpoint = self._endpoints.get(tenant, name)
        return await self._dispatch(endpoint, request, priority, deadline, route=route)

    def has_ready_replica(self, tenant: Tenant, name: str) -> bool:
        """Whether the tenant's endpoint `name` has a replica that takes requests (404 if none)."""
        endpoint = self._endpoints.get(tenant, name)
        return self._endpoints.dispatcher(endpoint).stats().ready_pods > 0

    async def _dispatch(
        self,
        endpoint: AIEndpoint,
        request: PodRequest,
        priority: Priority | None,
        deadline: float | None,
        *,
        route: str,
    ) -> DispatchResult[PodAnswer]:
        dispatcher = self._endpoints.dispatcher(endpoint)
        latest = dispatcher.now() + endpoint.spec.request_timeout_seconds
        chosen_deadline = latest if deadline is None else min(deadline, latest)
        labels = (endpoint.metadata.namespace or "", endpoint.metadata.name or "", route)
        started = time.perf_counter()
        outcome = OUTCOME_OK
        retries = 0
        try:
            result = await dispatcher.dispatch(
                request, priority or endpoint.spec.priority, chosen_deadline
            )
        except DispatchError as error:
            outcome, retries = error.slug, error.retries
            raise
        except asyncio.CancelledError:
            outcome = OUTCOME_CANCELLED
            raise
        except Exception:
            outcome = INTERNAL_ERROR
            raise
        finally:
            self._metrics.inference_duration.labels(*labels).observe(time.perf_counter() - started)
            if outcome != OUTCOME_OK:
                self._count(labels, outcome, retries)
        self._count(
            labels,
            OUTCOME_OK if result.reply.status_code < 400 else OUTCOME_REJECTED,
            result.retries,
        )
        return result

    def _count(self, labels: tuple[str, str, str], outcome: str, retries: int) -> None:
        self._metrics.inference_requests.labels(*labels, outcome).inc()
        if retries:
            self._metrics.inference_retries.labels(*labels[:2]).inc(retries)
