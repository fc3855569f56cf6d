"""Start-up and clean-up: credentials, settings, API client, caches, reconcile workers, metrics
(for AIJobs and for AIEndpoints), and the HTTP client of the jobs run on endpoints."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kopf
from aijob_api.constants import LABEL_ENDPOINT_NAME
from aijob_kube.resources import (
    RawConfigMap,
    RawDeployment,
    RawEvent,
    RawJob,
    RawPod,
    RawService,
    RawWorkload,
)
from lightkube import AsyncClient
from prometheus_client import start_http_server

from aijob_operator import kopf_settings, metrics
from aijob_operator.artifacts import ResultWriter
from aijob_operator.builders.pod import pod_settings
from aijob_operator.catalog import CatalogError, RuntimeCatalog, load_catalog
from aijob_operator.config import OperatorConfig
from aijob_operator.endpoint_jobs import EndpointJobs, EndpointJobSettings
from aijob_operator.endpoint_reconciler import EndpointCaches, EndpointReconciler
from aijob_operator.endpoint_views import DeploymentView, EndpointPodView, OwnedView
from aijob_operator.events import EventPoster
from aijob_operator.informer import ChildCache, ChildInformer
from aijob_operator.kube import KubeApi
from aijob_operator.kueue import WorkloadView, workload_owner
from aijob_operator.leader_election import leader_elector
from aijob_operator.reconciler import Caches, Reconciler
from aijob_operator.refusals import FAILED_CREATE_FIELDS, PodRefusal, refusal_owner
from aijob_operator.replica_client import ReplicaClient
from aijob_operator.runtime import EndpointState, OperatorState
from aijob_operator.status_channel import resolve_channel
from aijob_operator.status_server import StatusServer
from aijob_operator.status_tokens import TokenCache, TokenReviewer
from aijob_operator.store import AIJobStore, EndpointStore, Key
from aijob_operator.views import JobView, PodView
from aijob_operator.workqueue import WorkQueue

STATE = "aijob"
"""The key of the operator's state in kopf's memo."""
EVENT_POSTERS = 2
"""Tasks posting Events (off the reconcile path)."""
ENDPOINT_WORKERS = 4
"""Concurrent reconciles of AIEndpoints (few, long-lived objects)."""
KUEUE_RECHECK_SECONDS = 60.0
"""How often an operator started without Kueue looks for it again."""
SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


@kopf.on.login()
def login(settings: kopf.OperatorSettings, **_: Any) -> kopf.ConnectionInfo:
    """kopf's credentials, chosen when the operator logs in (see `kube_credentials`)."""
    return kube_credentials(settings)


def kube_credentials(settings: kopf.OperatorSettings) -> kopf.ConnectionInfo:
    """Credentials from where lightkube takes the client's: the pod, then KUBECONFIG.

    kopf registers its own fallback logins when `kopf` is first imported, from what
    exists at that moment: a process that sets KUBECONFIG later (a test session that
    starts its cluster, a wrapper script) would get none. Deciding at login follows the
    environment of the run.
    """
    info: kopf.ConnectionInfo | None = None
    if SERVICE_ACCOUNT_TOKEN.exists():
        info = kopf.login_with_service_account(settings=settings)
    elif os.environ.get("KUBECONFIG") or Path("~/.kube/config").expanduser().exists():
        info = kopf.login_with_kubeconfig(settings=settings)
    if info is None:
        raise kopf.PermanentError(
            "no Kubernetes credentials: not in a pod, KUBECONFIG unset and no ~/.kube/config"
        )
    return info


@kopf.on.startup()
async def start(
    settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    """Configure kopf, load the catalog, open the client, start the informers, workers, /metrics.

    The reconcile workers start once the informers listed every Job and Pod, so no
    decision is ever made from a half-known cluster.
    """
    kopf_settings.configure(settings)
    config = memo.get("config") or OperatorConfig()
    try:
        catalog = load_catalog(config.catalog_path)
    except CatalogError as error:
        raise kopf.PermanentError(str(error)) from error
    # HTTP/1.1 keep-alive: measured faster here than HTTP/2 on one multiplexed connection.
    client = AsyncClient(field_manager=config.field_manager)
    store = AIJobStore()
    queue: WorkQueue[Key] = WorkQueue()
    api = KubeApi(client)
    events = EventPoster(api.post_pending_event)
    namespaces = config.namespace_list
    informers = [
        ChildInformer(client, RawJob, JobView.from_body, namespaces, queue.add),
        ChildInformer(client, RawPod, PodView.from_body, namespaces, queue.add),
        # The Job controller's refusals of a pod (a tenant's quota): no other trace of them.
        ChildInformer(
            client,
            RawEvent,
            PodRefusal.from_event,
            namespaces,
            queue.add,
            fields=dict(FAILED_CREATE_FIELDS),
            key_of=refusal_owner,
        ),
    ]

    def workload_informer() -> ChildInformer:  # Kueue's word on queued jobs (`kueue`)
        return ChildInformer(
            client, RawWorkload, WorkloadView.from_body, namespaces, queue.add,
            key_of=workload_owner,
        )  # fmt: skip

    workloads = workload_informer() if await api.workloads_served(namespaces) else None
    if workloads is not None:
        informers.append(workloads)
        logger.info("Kueue is installed: watching its Workloads")
    endpoints = endpoint_state(client, api, store, queue, catalog, config, events)
    replica_client = ReplicaClient()
    caches = Caches(
        aijobs=store,
        jobs=informers[0].cache,
        pods=informers[1].cache,
        refusals=informers[2].cache,
        workloads=workloads.cache if workloads else ChildCache(),
    )
    # What worker pods are told of the status channel, before the pods are built.
    channel = await resolve_channel(config, config.own_namespace, client)
    reconciler = Reconciler(
        api,
        caches,
        catalog,
        config,
        queue,
        events,
        endpoint_jobs=endpoint_jobs(api, endpoints, replica_client, queue, config),
        status_channel=channel,
    )
    state = OperatorState(
        config=config,
        client=client,
        store=store,
        queue=queue,
        reconciler=reconciler,
        events=events,
        informers=informers,
        endpoints=endpoints,
        replica_client=replica_client,
        elector=leader_elector(client, config),
        status_channel=channel,
    )
    state.workers = [
        asyncio.create_task(informer.run(), name=f"aijob-informer-{informer.kind}")
        for informer in informers
    ]
    state.workers.append(
        asyncio.create_task(_start_workers(state, logger), name="aijob-start-workers")
    )
    state.workers += [
        asyncio.create_task(state.when_leading(events.run()), name=f"aijob-events-{number}")
        for number in range(EVENT_POSTERS)
    ]
    if state.elector is not None:  # a standby writes nothing until it leads
        state.workers.append(asyncio.create_task(state.elector.run(), name="aijob-election"))
    state.workers += _endpoint_tasks(state, logger)
    if workloads is None:
        later = _kueue_later(api, namespaces, caches, workload_informer, logger)
        state.workers.append(asyncio.create_task(later, name="aijob-kueue-later"))
    metrics.STATE.attach(store, queue)
    state.stoppers.append(metrics.STATE.detach)
    if config.metrics_port:
        server, _thread = start_http_server(config.metrics_port, addr=config.metrics_host)
        state.stoppers.append(server.shutdown)
        logger.info("metrics on http://%s:%d/metrics", config.metrics_host, config.metrics_port)
    await start_status_server(state, api, caches)
    memo[STATE] = state
    logger.info(
        "aijob operator started: %d workers, runtimes for %s",
        config.workers,
        ", ".join(sorted(catalog.frameworks)),
    )


async def start_status_server(state: OperatorState, api: KubeApi, caches: Caches) -> None:
    """The workers' status server when it has a certificate."""
    config = state.config
    if not config.status_server_enabled:
        return
    cache = TokenCache(
        config.status_token_cache_size, config.status_token_cache_seconds, time.monotonic
    )
    server = StatusServer(
        config, api, TokenReviewer(state.client, cache, time.time), caches.aijobs,
        caches.pods, caches.jobs, state.leads,
    )  # fmt: skip
    await server.start()
    state.status_server = server


async def _kueue_later(
    api: KubeApi,
    namespaces: list[str],
    caches: Caches,
    informer: Callable[[], ChildInformer],
    logger: kopf.Logger,
) -> None:
    """Kueue was not installed at start: look again every `KUEUE_RECHECK_SECONDS`, and once it
    is, watch its Workloads (the reconciler reads them from `caches.workloads`)."""
    while True:  # polling the API server: there is no event to wait for
        await asyncio.sleep(KUEUE_RECHECK_SECONDS)
        try:
            if await api.workloads_served(namespaces):
                break
        except Exception as error:  # the API server unreachable a moment: look again later
            logger.warning("could not look for Kueue: %s", error)
    workloads = informer()
    caches.workloads = workloads.cache
    logger.info("Kueue is installed now: watching its Workloads")
    await workloads.run()


async def _start_workers(state: OperatorState, logger: kopf.Logger) -> None:
    """Start the reconcile workers once every informer has listed its objects (the endpoints'
    pods too: jobs on endpoints are sent to them); then wait."""
    informers = [*state.informers, *(state.endpoints.informers if state.endpoints else [])]
    await asyncio.gather(*(informer.wait_synced() for informer in informers))
    if state.elector is not None:
        logger.info("caches synced; standing by for lease %s", state.elector.name)
        await state.wait_leading()
        logger.info("leading: reconciling all %d objects known", state.enqueue_all())
    logger.info(
        "listed %s; starting %d reconcile workers",
        ", ".join(f"{len(i.cache)} {i.kind}s" for i in state.informers),
        state.config.workers,
    )
    workers = [
        asyncio.create_task(state.reconciler.run_worker(), name=f"aijob-reconcile-{number}")
        for number in range(state.config.workers)
    ]
    await asyncio.gather(*workers)


def endpoint_state(
    client: AsyncClient,
    api: KubeApi,
    aijobs: AIJobStore,
    aijob_queue: WorkQueue[Key],
    catalog: RuntimeCatalog,
    config: OperatorConfig,
    events: EventPoster,
) -> EndpointState:
    """The AIEndpoints' store, queue, reconciler, and informers of what they own (a change of
    an endpoint's pods also queues the AIJobs that run on the endpoint)."""
    store = EndpointStore()
    queue: WorkQueue[Key] = WorkQueue()
    namespaces = config.namespace_list

    def pods_changed(endpoint: Key) -> None:
        queue.add(endpoint)
        for job in aijobs.endpoint_users(endpoint):
            aijob_queue.add(job)

    informers = [
        ChildInformer(
            client, resource, view_of, namespaces, notify, owner_label=LABEL_ENDPOINT_NAME
        )
        for resource, view_of, notify in (
            (RawDeployment, DeploymentView.from_body, queue.add),
            (RawPod, EndpointPodView.from_body, pods_changed),
            (RawService, OwnedView.from_body, queue.add),
            (RawConfigMap, OwnedView.from_body, queue.add),
        )
    ]
    deployments, pods, services, config_maps = (informer.cache for informer in informers)
    caches = EndpointCaches(store, aijobs, deployments, pods, services, config_maps)
    reconciler = EndpointReconciler(api, caches, catalog, config, queue, events)
    return EndpointState(
        store=store, queue=queue, reconciler=reconciler, informers=informers, pods=pods
    )


def endpoint_jobs(
    api: KubeApi,
    endpoints: EndpointState,
    replica_client: ReplicaClient,
    queue: WorkQueue[Key],
    config: OperatorConfig,
) -> EndpointJobs:
    """The runs of jobs on endpoints, reading the endpoints' store and their pods' views."""
    return EndpointJobs(
        api,
        endpoints.store,
        endpoints.pods,
        replica_client.post,
        queue,
        EndpointJobSettings(
            wait_seconds=config.endpoint_wait_seconds,
            call_attempts=config.endpoint_call_attempts,
            concurrency=config.endpoint_job_concurrency,
            recheck_seconds=config.recheck_seconds,
        ),
        results=ResultWriter(api, pod_settings(config)),
    )


def _endpoint_tasks(state: OperatorState, logger: kopf.Logger) -> list[asyncio.Task[None]]:
    """The endpoints' informers, and their reconcile workers once those listed everything."""
    endpoints = state.endpoints
    if endpoints is None:
        return []

    async def start_workers() -> None:
        await asyncio.gather(*(informer.wait_synced() for informer in endpoints.informers))
        await state.wait_leading()
        logger.info("listed endpoint children; starting %d endpoint workers", ENDPOINT_WORKERS)
        await asyncio.gather(*(endpoints.reconciler.run_worker() for _ in range(ENDPOINT_WORKERS)))

    tasks = [
        asyncio.create_task(informer.run(), name=f"aiendpoint-informer-{informer.kind}")
        for informer in endpoints.informers
    ]
    tasks.append(asyncio.create_task(start_workers(), name="aiendpoint-start-workers"))
    return tasks


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Stop the workers and the metrics server, close the client."""
    state: OperatorState | None = memo.get(STATE)
    if state is None:
        return
    state.queue.close()
    if state.endpoints is not None:
        state.endpoints.queue.close()
    await state.events.drain(within=2)
    for task in state.workers:
        task.cancel()
    await asyncio.gather(*state.workers, return_exceptions=True)
    if state.elector is not None:  # after the last write: a standby takes over at once
        await state.elector.release()
    if state.status_server is not None:
        await state.status_server.stop()
    for stopper in state.stoppers:
        stopper()
    if state.replica_client is not None:
        await state.replica_client.close()
    await state.client.close()
    logger.info("aijob operator stopped")


@kopf.on.probe(id="reconcilers")
async def reconcilers(memo: kopf.Memo, **_: Any) -> dict[str, int]:
    """Liveness: fails when a reconcile worker died; reports the work queue otherwise."""
    state: OperatorState | None = memo.get(STATE)
    if state is None:
        return {"starting": 1}
    if not state.healthy():
        raise RuntimeError("a reconcile worker stopped")
    return {
        "queued": len(state.queue),
        "scheduled": state.queue.scheduled,
        "processing": state.queue.processing,
        "aijobs": len(state.store),
        "events_queued": len(state.events),
        "aiendpoints": len(state.endpoints.store) if state.endpoints else 0,
        "leader": int(state.leads()),
    }
