"""The status server: workers' reports in over HTTPS, the AIJob's status written by the operator.

Routes and answers are the contract's (`aijob_api.status_report`). Each report is checked in
this order, the first failure answered and counted in `aijob_operator_status_reports_total`
by reason, nothing written: the body's size (413, before reading past the limit), a standby
(503: only the leader writes), the bearer token (TokenReview with aijob's audience, cached;
401), the token's pod (in the URL's namespace, in the informers' caches as one of this
AIJob's pods, of a Job this AIJob owns, and named by the report; 403), the AIJob (404) and
its uid (the report's and the Job's owner's; 409), the pod's rate (429 with Retry-After),
the report's schema (422 naming the field). Accepted reports are merged per job and
written at most once per interval (`status_intake.Coalescer`); a final one at once, and
answered only once written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from aijob_api.status_patch import status_patch_for
from aijob_api.status_report import (
    MAX_REPORT_BYTES,
    STATUS_PATH_PREFIX,
    ReportAnswer,
    StatusReport,
    WorkerStatusParts,
)
from aijob_kube.errors import InvalidError, KubeError, NotFoundError
from aijob_kube.resources import AIJobResource
from aiohttp import web
from pydantic import ValidationError

from aijob_operator.kube import KubeApi
from aijob_operator.metrics import STATUS_REPORT_WRITES, STATUS_REPORTS, STATUS_REPORTS_PER_WRITE
from aijob_operator.reconciler import ChildViews
from aijob_operator.status_config import StatusServerSettings
from aijob_operator.status_intake import Coalescer, Key, Pending, PodLimits
from aijob_operator.status_tokens import PodIdentity, TokenReviewer
from aijob_operator.store import AIJobStore
from aijob_operator.views import JobView, PodView

logger = logging.getLogger(__name__)

SWEEP_SECONDS: Final = 60.0
RETRY_SECONDS: Final = 1
"""Retry-After of a 503 (standby, API server unreachable) and the delay of a failed write."""
WORKER_PARTS: Final = tuple(
    field.alias or name for name, field in WorkerStatusParts.model_fields.items()
)


class RefusedError(Exception):
    """A report refused: the HTTP status, the metric's reason, a message for the worker."""

    def __init__(self, status: int, reason: str, message: str, retry_after: float = 0) -> None:
        super().__init__(message)
        self.status, self.reason, self.retry_after = status, reason, retry_after


class GoneError(Exception):
    """The AIJob is gone or was re-created: the parts can never be written."""


@dataclass
class Caller:
    """A report's checked sender: the token's pod and the AIJob as the store holds it."""

    identity: PodIdentity
    aijob: dict[str, Any]

    @property
    def uid(self) -> str:
        """The AIJob's uid."""
        return str(self.aijob["metadata"]["uid"])


def owning_job(
    identity: PodIdentity, key: Key, pods: ChildViews, jobs: ChildViews
) -> JobView | None:
    """The Job of this AIJob that owns the token's pod, from the informers' caches; None when
    the pod is not one of this AIJob's (another job's, another namespace's, not aijob's)."""
    if identity.namespace != key[0]:
        return None
    pod = next(
        (view for view in pods.get(key) if isinstance(view, PodView)
         and view.uid == identity.pod_uid and view.name == identity.pod_name),
        None,
    )  # fmt: skip
    if pod is None or pod.job_uid is None:
        return None
    return next(
        (view for view in jobs.get(key) if isinstance(view, JobView) and view.uid == pod.job_uid),
        None,
    )


class StatusServer:
    """The HTTPS app, its checks, and the coalesced writes (`start`, then `stop`)."""

    def __init__(
        self,
        settings: StatusServerSettings,
        api: KubeApi,
        reviewer: TokenReviewer,
        store: AIJobStore,
        pods: ChildViews,
        jobs: ChildViews,
        leads: Callable[[], bool],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._api = api
        self.reviewer = reviewer
        self._store = store
        self._pods, self._jobs = pods, jobs
        self._leads = leads
        self.limits = PodLimits(settings.status_pod_rate, settings.status_pod_burst, clock)
        self.coalescer = Coalescer(settings.status_write_interval_seconds, clock)
        self._locks: dict[Key, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.outcomes: dict[Key, tuple[str, int, str]] = {}
        """The last final report's outcome of each job (uid, exit code, message), as the
        worker saw it: logged, never the phase (the Job's status decides that)."""

    def app(self) -> web.Application:
        """The aiohttp application (no body past `MAX_REPORT_BYTES` is ever read)."""
        app = web.Application(client_max_size=MAX_REPORT_BYTES)
        route = STATUS_PATH_PREFIX + "/{namespace}/{name}"
        app.router.add_post(route, self.post_report)
        app.router.add_get(route, self.get_parts)
        return app

    async def start(self) -> None:
        """Listen on the configured address with the configured certificate."""
        cert, key = self.settings.status_tls_cert_file, self.settings.status_tls_key_file
        assert cert is not None
        assert key is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        host, port = self.settings.status_host, self.settings.status_port
        await web.TCPSite(self._runner, host, port, ssl_context=context).start()
        self._spawn(self._sweep())
        logger.info("status server on https://%s:%d%s", host, port, STATUS_PATH_PREFIX)

    async def stop(self) -> None:
        """Stop listening; drop pending writes (workers report again)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work, name="aijob-status-write")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the routes --------------------------------------------------------------------------

    async def post_report(self, request: web.Request) -> web.Response:
        """`POST <prefix>/{namespace}/{name}`: one report."""
        try:
            body = await _read_limited(request)
            caller, raw = await self._check(request, body)
            if raw.get("uid") is not None and raw.get("uid") != caller.uid:
                raise RefusedError(409, "conflict", "the AIJob was re-created: its uid differs")
            wait = self.limits.take(caller.identity.pod_uid)
            if wait > 0:
                raise RefusedError(429, "rate_limited", "over the pod's report rate", wait)
            try:
                report = StatusReport.model_validate_json(body)
            except ValidationError as error:
                raise RefusedError(422, "invalid", _first_problem(error)) from error
            answer = await self._take(_key(request), caller, report)
        except RefusedError as refused:
            return _refusal(refused)
        STATUS_REPORTS.labels(result="accepted").inc()
        return web.json_response(answer.model_dump(mode="json", by_alias=True))

    async def get_parts(self, request: web.Request) -> web.Response:
        """`GET <prefix>/{namespace}/{name}`: the worker's share of the status now."""
        try:
            caller, _ = await self._check(request, b"")
        except RefusedError as refused:
            return _refusal(refused)
        status = caller.aijob.get("status") or {}
        share = {name: status[name] for name in WORKER_PARTS if status.get(name) is not None}
        STATUS_REPORTS.labels(result="read").inc()
        return web.json_response(share, headers={"X-AIJob-UID": caller.uid})

    # -- the checks --------------------------------------------------------------------------

    async def _check(self, request: web.Request, body: bytes) -> tuple[Caller, dict[str, Any]]:
        """Leader, token, pod, AIJob and uid (in that order); the body's JSON, loosely."""
        if not self._leads():
            raise RefusedError(503, "not_leader", "a standby: try again", RETRY_SECONDS)
        key = _key(request)
        identity = await self._identify(request)
        job = owning_job(identity, key, self._pods, self._jobs)
        if job is None:
            raise RefusedError(
                403, "forbidden", f"the token's pod is not one of {key[0]}/{key[1]}'s"
            )
        raw = _loose_json(body)
        if "pod" in raw and raw["pod"] != identity.pod_name:
            raise RefusedError(403, "forbidden", "the report names another pod than the token's")
        aijob = self._store.get(key)
        if aijob is None:
            raise RefusedError(404, "not_found", f"no AIJob {key[0]}/{key[1]}")
        caller = Caller(identity, aijob)
        if job.owner_uid != caller.uid:
            raise RefusedError(409, "conflict", "the AIJob was re-created: its uid differs")
        return caller, raw

    async def _identify(self, request: web.Request) -> PodIdentity:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise RefusedError(401, "unauthenticated", "a bearer token is needed")
        try:
            identity = await self.reviewer.identify(token.strip())
        except KubeError as error:
            logger.warning("TokenReview failed: %s", error)
            raise RefusedError(
                503, "unavailable", "the API server is unreachable", RETRY_SECONDS
            ) from error
        if identity is None:
            raise RefusedError(
                401, "unauthenticated", "the token is not a valid aijob status token"
            )
        return identity

    # -- the writes --------------------------------------------------------------------------

    async def _take(self, key: Key, caller: Caller, report: StatusReport) -> ReportAnswer:
        pod_uid = caller.identity.pod_uid
        if self.limits.is_stale(pod_uid, report.sequence):
            STATUS_REPORTS.labels(result="stale").inc()
            return ReportAnswer(sequence=report.sequence, written=False)
        self.limits.taken(pod_uid, report.sequence)
        parts = report.status.model_dump(mode="json", by_alias=True, exclude_none=True)
        if report.final and report.outcome is not None:
            self.outcomes[key] = (caller.uid, report.outcome.exit_code, report.outcome.message)
            logger.info(
                "%s/%s: pod %s ended with exit code %d %s", key[0], key[1],
                caller.identity.pod_name, report.outcome.exit_code, report.outcome.message,
            )  # fmt: skip
        if not report.final:
            delay = self.coalescer.add(key, caller.uid, parts)
            if delay is not None:
                self._spawn(self._flush_later(key, delay))
            return ReportAnswer(sequence=report.sequence, written=False)
        async with self._lock(key):
            pending = self.coalescer.take_final(key, caller.uid, parts)
            try:
                await self._write(key, pending, "final")
            except GoneError as gone:
                raise RefusedError(409, "conflict", "the AIJob is gone or was re-created") from gone
            except KubeError as error:
                self._put_back(key, pending)
                raise RefusedError(
                    503, "unavailable", f"not written: {error}", RETRY_SECONDS
                ) from error
        return ReportAnswer(sequence=report.sequence, written=True)

    def _lock(self, key: Key) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def _flush_later(self, key: Key, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock(key):
            pending = self.coalescer.take(key)
            if pending is None:
                return
            try:
                await self._write(key, pending, "coalesced")
            except GoneError:
                self.coalescer.forget(key)
            except KubeError as error:
                logger.warning("%s/%s: report not written, again soon: %s", *key, error)
                self._put_back(key, pending)
            except Exception:  # a bug must not leave the job's write scheduled forever
                logger.exception("%s/%s: report not written, again soon", *key)
                self._put_back(key, pending)

    def _put_back(self, key: Key, pending: Pending) -> None:
        if (delay := self.coalescer.put_back(key, pending)) is not None:
            self._spawn(self._flush_later(key, max(delay, RETRY_SECONDS)))

    async def _write(self, key: Key, pending: Pending, kind: str) -> None:
        """One JSON patch; a failed test (the status moved on) is recomputed from a fresh read
        once; another uid, or no AIJob, is `GoneError`."""
        aijob = self._store.get(key)
        for attempt in range(2):
            if aijob is None or aijob["metadata"].get("uid") != pending.uid:
                STATUS_REPORT_WRITES.labels(kind=kind, outcome="gone").inc()
                raise GoneError(key)
            status = aijob.get("status")
            operations = status_patch_for(pending.parts, uid=pending.uid, status=status)
            try:
                await self._api.json_patch_status(key[0], key[1], operations)
            except NotFoundError as error:
                raise GoneError(key) from error
            except InvalidError:
                if attempt:
                    raise
                STATUS_REPORT_WRITES.labels(kind=kind, outcome="retried").inc()
                aijob = await self._api.get(AIJobResource, key[0], key[1])
                continue
            STATUS_REPORT_WRITES.labels(kind=kind, outcome="written").inc()
            STATUS_REPORTS_PER_WRITE.observe(pending.reports)
            return

    async def _sweep(self) -> None:
        """Drop idle pods' limits, idle jobs' pacing, and ended jobs' outcomes."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.limits.sweep()
            for key in self.coalescer.idle_jobs():
                self.coalescer.forget(key)
                lock = self._locks.get(key)
                if lock is not None and not lock.locked():
                    del self._locks[key]
            for key in [key for key in self.outcomes if key not in self._store]:
                del self.outcomes[key]


def _key(request: web.Request) -> Key:
    return request.match_info["namespace"], request.match_info["name"]


async def _read_limited(request: web.Request) -> bytes:
    """The body, refused (413) as soon as it is longer than `MAX_REPORT_BYTES`."""
    too_large = RefusedError(413, "too_large", f"a report is at most {MAX_REPORT_BYTES} bytes")
    if request.content_length is not None and request.content_length > MAX_REPORT_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > MAX_REPORT_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _loose_json(body: bytes) -> dict[str, Any]:
    """The body's JSON object, or {} (the schema's check, last, says what is wrong)."""
    try:
        value = json.loads(body) if body else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem.get("loc", ())) or "the report"
    return f"{where}: {problem.get('msg', 'invalid')}"


def _refusal(refused: RefusedError) -> web.Response:
    STATUS_REPORTS.labels(result=refused.reason).inc()
    headers = {}
    if refused.retry_after:
        headers["Retry-After"] = str(max(1, math.ceil(refused.retry_after)))
    return web.json_response(
        {"reason": refused.reason, "message": str(refused)},
        status=refused.status,
        headers=headers,
    )
