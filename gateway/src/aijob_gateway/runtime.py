"""What the gateway holds while it runs: the client, caches, store, services and limits.

Built in the app's lifespan and kept on `app.state.runtime`; routers reach it
through the dependencies in `aijob_gateway.dependencies`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lightkube import ALL_NS, ApiError, AsyncClient
from lightkube.resources.core_v1 import Secret

from aijob_gateway.kube.client import AIJobResource
from aijob_gateway.kube.cluster import ClusterReader
from aijob_gateway.kube.errors import TRANSPORT_ERRORS
from aijob_gateway.kube.job_cache import JobCache
from aijob_gateway.kube.job_store import JobStore
from aijob_gateway.kube.key_store import KeyStore
from aijob_gateway.kube.pod_logs import PodLogs
from aijob_gateway.kube.reflector import Reflector
from aijob_gateway.kube.watch import watch_events
from aijob_gateway.observability.metrics import GatewayMetrics
from aijob_gateway.security.ratelimit import RateLimiter
from aijob_gateway.services.jobs import JobService
from aijob_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

WATCH_GRACE_SECONDS = 30
"""How long past its server-side timeout a silent watch is still trusted to be alive."""


class ApiServerProbe:
    """Whether the API server answers (any answer, even an error status, counts)."""

    def __init__(self, client: AsyncClient, settings: GatewaySettings) -> None:
        self._client = client
        self._settings = settings
        self._ok_until = 0.0

    async def answers(self) -> bool:
        """Probe the API server, trusting a recent success for a few seconds."""
        now = time.monotonic()
        if now < self._ok_until:
            return True
        try:
            await self._client.get(
                Secret, self._settings.api_keys_secret, namespace=self._settings.namespace
            )
        except ApiError:
            pass
        except TRANSPORT_ERRORS:
            return False
        self._ok_until = now + self._settings.readiness_probe_seconds
        return True


@dataclass
class Runtime:
    """Everything a request may need."""

    settings: GatewaySettings
    client: AsyncClient
    metrics: GatewayMetrics
    cache: JobCache
    keys: KeyStore
    jobs: JobService
    cluster: ClusterReader
    limiter: RateLimiter
    probe: ApiServerProbe
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls, settings: GatewaySettings, client: AsyncClient, metrics: GatewayMetrics
    ) -> Runtime:
        """Wire the parts together (nothing runs until `start`)."""
        cache = JobCache(on_invalid=metrics.invalid_jobs.inc)
        return cls(
            settings=settings,
            client=client,
            metrics=metrics,
            cache=cache,
            keys=KeyStore(settings.api_keys_secret),
            jobs=JobService(cache, JobStore(client, cache), PodLogs(client)),
            cluster=ClusterReader(client, settings.nodes_cache_seconds),
            limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
            probe=ApiServerProbe(client, settings),
        )

    def _reflectors(self) -> list[Reflector]:
        client, settings = self.client, self.settings
        timeout = settings.watch_timeout_seconds

        def restarted(name: str) -> Callable[[str], None]:
            def count(reason: str) -> None:
                self.metrics.watch_restarts.labels(name, reason).inc()

            return count

        return [
            Reflector(
                "aijobs",
                lambda: client.list(AIJobResource, namespace=ALL_NS),
                lambda version: watch_events(
                    client,
                    AIJobResource,
                    namespace=ALL_NS,
                    resource_version=version,
                    server_timeout=timeout,
                ),
                self.cache,
                silence_deadline=timeout + WATCH_GRACE_SECONDS,
                on_restart=restarted("aijobs"),
            ),
            Reflector(
                "api-keys",
                lambda: client.list(
                    Secret,
                    namespace=settings.namespace,
                    fields={"metadata.name": settings.api_keys_secret},
                ),
                lambda version: watch_events(
                    client,
                    Secret,
                    namespace=settings.namespace,
                    fields={"metadata.name": settings.api_keys_secret},
                    resource_version=version,
                    server_timeout=timeout,
                ),
                self.keys,
                silence_deadline=timeout + WATCH_GRACE_SECONDS,
                on_restart=restarted("api-keys"),
            ),
        ]

    @property
    def watching(self) -> bool:
        """Every reflector still runs (one that ended would leave its cache frozen)."""
        return bool(self.tasks) and all(not task.done() for task in self.tasks)

    def start(self) -> None:
        """Start listing and watching."""
        for reflector in self._reflectors():
            self.tasks.append(asyncio.create_task(reflector.run(), name=reflector.name))

    async def stop(self) -> None:
        """Stop the watches and close the client."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.close()
