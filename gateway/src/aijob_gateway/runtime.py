"""What the gateway holds while it runs: the clients, caches, store, services and limits.

Built in the app's lifespan and kept on `app.state.runtime`; routers reach it
through the dependencies in `aijob_gateway.dependencies`. Two Kubernetes clients,
each with its own connection pool: one for the watches and writes, one for pod logs
(a followed log holds its connection as long as its client listens).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aijob_api.constants import LABEL_ENDPOINT_NAME
from aijob_kube.errors import KubeError, kube_errors
from aijob_kube.resources import AIEndpointResource, AIJobResource, RawPod
from aijob_kube.watch import Reflector, list_and_watch
from lightkube import ALL_NS, AsyncClient, operators
from lightkube.resources.core_v1 import Secret

from aijob_gateway.dispatch.contract import DispatchPolicy
from aijob_gateway.dispatch.registry import DispatcherRegistry
from aijob_gateway.kube.cluster import ClusterReader
from aijob_gateway.kube.endpoint_cache import EndpointCache
from aijob_gateway.kube.endpoint_pods import EndpointPods
from aijob_gateway.kube.endpoint_store import EndpointStore
from aijob_gateway.kube.job_cache import JobCache
from aijob_gateway.kube.job_store import JobStore
from aijob_gateway.kube.key_store import KeyStore
from aijob_gateway.kube.pod_logs import PodLogs
from aijob_gateway.kube.storage_secrets import StorageSecrets
from aijob_gateway.object_store import ObjectReader
from aijob_gateway.observability.metrics import GatewayMetrics
from aijob_gateway.security.ratelimit import RateLimiter
from aijob_gateway.security.streams import StreamSlots
from aijob_gateway.services.artifacts import ArtifactService
from aijob_gateway.services.async_inference import AsyncInferenceService
from aijob_gateway.services.endpoint_load import EndpointLoadPublisher, LoadTracker
from aijob_gateway.services.endpoints import EndpointDispatchers, EndpointService
from aijob_gateway.services.inference import InferenceService
from aijob_gateway.services.jobs import JobService
from aijob_gateway.serving.transport import PodTransport
from aijob_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


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
            with kube_errors("probe the API server"):
                await self._client.get(
                    Secret, self._settings.api_keys_secret, namespace=self._settings.namespace
                )
        except KubeError as error:
            if not error.answered:
                return False
        self._ok_until = now + self._settings.readiness_probe_seconds
        return True


@dataclass
class Runtime:
    """Everything a request may need."""

    settings: GatewaySettings
    client: AsyncClient
    log_client: AsyncClient
    metrics: GatewayMetrics
    cache: JobCache
    keys: KeyStore
    jobs: JobService
    cluster: ClusterReader
    limiter: RateLimiter
    inference_limiter: RateLimiter
    log_streams: StreamSlots
    probe: ApiServerProbe
    endpoint_cache: EndpointCache
    endpoint_pods: EndpointPods
    transport: PodTransport
    dispatchers: EndpointDispatchers
    endpoints: EndpointService
    inference: InferenceService
    load_publisher: EndpointLoadPublisher
    async_inference: AsyncInferenceService
    artifacts: ArtifactService
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: GatewaySettings,
        client: AsyncClient,
        metrics: GatewayMetrics,
        log_client: AsyncClient,
    ) -> Runtime:
        """Wire the parts together (nothing runs until `start`)."""
        cache = JobCache(on_invalid=metrics.invalid_jobs.inc)
        endpoint_cache = EndpointCache(on_invalid=metrics.invalid_endpoints.inc)
        transport = PodTransport(
            settings.inference_connect_timeout_seconds, settings.inference_max_connections
        )
        dispatchers: EndpointDispatchers = DispatcherRegistry(
            transport.send,
            DispatchPolicy(
                queue_limit=settings.inference_queue_limit,
                max_attempts=settings.inference_max_attempts,
            ),
        )
        metrics.collect_dispatch(
            lambda: [
                (entry.namespace, entry.endpoint, entry.dispatcher.stats()) for entry in dispatchers
            ]
        )
        endpoint_store = EndpointStore(client, endpoint_cache)
        endpoints = EndpointService(
            endpoint_cache, endpoint_store, dispatchers, settings.tenant_store
        )
        load_tracker = LoadTracker(
            settings.endpoint_load_window_seconds,
            settings.endpoint_load_interval_seconds,
            settings.endpoint_load_refresh_seconds,
        )
        log_streams = StreamSlots(settings.log_streams_per_key, settings.log_streams_total)
        logs = PodLogs(log_client, settings.logs_max_bytes)
        jobs = JobService(
            cache,
            JobStore(client, cache),
            logs,
            log_streams,
            settings.tenant_store,
            settings.tenant_resources,
        )
        return cls(
            settings=settings,
            client=client,
            log_client=log_client,
            metrics=metrics,
            cache=cache,
            keys=KeyStore(settings.api_keys_secret, settings.keys_stale_after_seconds),
            jobs=jobs,
            cluster=ClusterReader(client, settings.nodes_cache_seconds),
            limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
            inference_limiter=RateLimiter(
                settings.inference_rate_limit_per_second, settings.inference_rate_limit_burst
            ),
            log_streams=log_streams,
            probe=ApiServerProbe(client, settings),
            endpoint_cache=endpoint_cache,
            endpoint_pods=EndpointPods(dispatchers, on_emptied=endpoints.forget_if_deleted),
            transport=transport,
            dispatchers=dispatchers,
            endpoints=endpoints,
            inference=InferenceService(endpoints, metrics),
            load_publisher=EndpointLoadPublisher(
                settings.instance,
                dispatchers,
                endpoint_cache,
                endpoint_store.patch_status,
                load_tracker,
                refresh=settings.endpoint_load_refresh_seconds,
            ),
            async_inference=AsyncInferenceService(endpoints, jobs),
            artifacts=ArtifactService(
                jobs,
                StorageSecrets(client),
                ObjectReader(
                    settings.s3_endpoint, settings.s3_region, settings.s3_presign_endpoint
                ),
                settings.tenant_store,
                list_limit=settings.artifact_list_limit,
                url_seconds=settings.artifact_url_seconds,
            ),
        )

    def _reflectors(self) -> list[Reflector]:
        client, settings = self.client, self.settings

        def restarted(name: str) -> Callable[[str], None]:
            def count(reason: str) -> None:
                self.metrics.watch_restarts.labels(name, reason).inc()

            return count

        return [
            list_and_watch(
                client,
                AIJobResource,
                self.cache,
                name="aijobs",
                namespace=ALL_NS,
                server_timeout=settings.watch_timeout_seconds,
                on_restart=restarted("aijobs"),
            ),
            list_and_watch(
                client,
                Secret,
                self.keys,
                name="api-keys",
                namespace=settings.namespace,
                fields={"metadata.name": settings.api_keys_secret},
                server_timeout=settings.keys_watch_timeout_seconds,
                on_restart=restarted("api-keys"),
            ),
            list_and_watch(
                client,
                AIEndpointResource,
                self.endpoint_cache,
                name="aiendpoints",
                namespace=ALL_NS,
                server_timeout=settings.watch_timeout_seconds,
                on_restart=restarted("aiendpoints"),
            ),
            list_and_watch(
                client,
                RawPod,
                self.endpoint_pods,
                name="endpoint-pods",
                namespace=ALL_NS,
                labels={LABEL_ENDPOINT_NAME: operators.exists()},
                server_timeout=settings.watch_timeout_seconds,
                on_restart=restarted("endpoint-pods"),
            ),
        ]

    @property
    def watching(self) -> bool:
        """Every reflector still runs (one that ended would leave its cache frozen)."""
        return bool(self.tasks) and all(not task.done() for task in self.tasks)

    def start(self) -> None:
        """Start listing and watching, and publishing the endpoints' load."""
        for reflector in self._reflectors():
            self.tasks.append(asyncio.create_task(reflector.run(), name=reflector.name))
        self.tasks.append(asyncio.create_task(self.load_publisher.run(), name="endpoint-load"))

    async def stop(self) -> None:
        """Stop the watches and close the client."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.transport.close()
        self.artifacts.close()
        await self.client.close()
        await self.log_client.close()
