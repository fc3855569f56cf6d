"""The dispatcher: one request to one ready pod, by load, with a queue, deadlines and retries.

`Dispatcher.dispatch(request, priority, deadline)` reserves a slot on the pod of
least weighted load (see `scoring`), or waits in the bounded priority queue while
every ready pod is at its concurrency, then calls the injected
`send(pod, request, timeout)` (see `contract`). An attempt that fails on the pod's
fault (any exception from `send`, a 5xx or 429 reply, the pod removed while it ran)
is tried again on another pod, at most `max_attempts` in all and never past the
deadline. A reply the pod gives for the request itself (2xx, or a 4xx such as 422
for a bad record) is the answer, with the pod's name, the number of attempts and the latency.

Every other ending is a `DispatchError` (see `errors`), and a request whose caller
goes away (its task cancelled, as on a client disconnect) leaves the queue or its
pod at once. It knows nothing of HTTP frameworks or of how pods are discovered:
the caller keeps the `PodSet` up to date and supplies `send`. Run everything on
one event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aijob_api.priority import Priority

from aijob_gateway.dispatch.contract import (
    INTERNAL_ERROR,
    DispatchPolicy,
    DispatchResult,
    ReplyT,
    RequestT,
    Send,
    is_pod_fault,
)
from aijob_gateway.dispatch.errors import (
    DeadlineExceededError,
    DispatchError,
    NoReadyPodError,
    PodsFailedError,
    QueueFullError,
)
from aijob_gateway.dispatch.pods import PodSet, PodState
from aijob_gateway.dispatch.queue import PRIORITY_ORDER, PendingQueue, Waiter
from aijob_gateway.dispatch.scoring import Candidate, pick
from aijob_gateway.dispatch.stats import (
    Counters,
    DispatchStats,
    LatencyWindow,
    PodStats,
)


@dataclass(frozen=True)
class _Fault:
    """An attempt that failed on the pod's fault."""

    pod: str
    what: str

    def __str__(self) -> str:
        return f"pod {self.pod}: {self.what}"


_T = TypeVar("_T")


def _consume_outcome(attempt: asyncio.Future[_T]) -> None:
    """Mark an abandoned attempt's exception as seen (the dispatcher reads the others itself)."""
    if not attempt.cancelled():
        attempt.exception()


class Dispatcher(Generic[RequestT, ReplyT]):
    """Dispatches the requests of one endpoint to the pods of its `PodSet`."""

    def __init__(
        self,
        pods: PodSet,
        send: Send[RequestT, ReplyT],
        policy: DispatchPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pods = pods
        self.policy = policy or DispatchPolicy()
        self._send = send
        self._clock = clock
        self._concurrency = self.policy.concurrency
        self._queue = PendingQueue(self.policy.queue_limit)
        self._latency = LatencyWindow(self.policy.latency_window)
        self._counters = Counters()
        self._in_progress = 0
        self._in_flight = 0
        self._arrivals = itertools.count()
        self._turn = 0
        pods.subscribe(self._on_pods_changed)

    def now(self) -> float:
        """The dispatcher's clock; a deadline is `now() + timeout`."""
        return self._clock()

    @property
    def concurrency(self) -> int:
        """Requests one pod may hold at once."""
        return self._concurrency

    def set_concurrency(self, concurrency: int) -> None:
        """Change the per-pod concurrency when the endpoint changes; new slots serve the queue."""
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self._concurrency = concurrency
        self._grant()

    async def dispatch(
        self, request: RequestT, priority: Priority, deadline: float
    ) -> DispatchResult[ReplyT]:
        """Get a pod's reply to `request` by `deadline` (on this dispatcher's clock)."""
        started = self._clock()
        self._counters.received += 1
        self._in_progress += 1
        try:
            result = await self._serve(request, priority, deadline, started)
        except DispatchError as error:
            self._counters.errors[error.slug] += 1
            raise
        except asyncio.CancelledError:
            self._counters.cancelled += 1
            raise
        except Exception:
            self._counters.errors[INTERNAL_ERROR] += 1
            raise
        finally:
            self._in_progress -= 1
        self._counters.answered += 1
        if result.reply.status_code >= 400:
            self._counters.rejected += 1
        self._latency.add(priority, result.latency_s)
        return result

    async def _serve(
        self, request: RequestT, priority: Priority, deadline: float, started: float
    ) -> DispatchResult[ReplyT]:
        arrival = next(self._arrivals)
        faults: list[_Fault] = []
        for attempt in range(1, self.policy.max_attempts + 1):
            pod = await self._acquire(priority, arrival, deadline, faults)
            if attempt > 1:
                self._counters.retries += 1
            try:
                outcome = await self._attempt(pod, request, deadline, attempt)
            finally:
                self._release(pod)
            if isinstance(outcome, _Fault):
                faults.append(outcome)
                continue
            return DispatchResult(
                reply=outcome, pod=pod.name, attempts=attempt, latency_s=self._clock() - started
            )
        raise PodsFailedError(
            f"all {len(faults)} attempts failed on a pod's fault: "
            + "; ".join(str(fault) for fault in faults),
            attempts=len(faults),
        )

    async def _acquire(
        self, priority: Priority, arrival: int, deadline: float, faults: list[_Fault]
    ) -> PodState:
        """A slot on a pod the request has not failed on, reserved; queued while none is free."""
        failures = tuple(str(fault) for fault in faults)
        excluded = frozenset(fault.pod for fault in faults)
        if self._clock() >= deadline:
            raise self._deadline_error("before a pod could take it", failures)
        if not self._has_candidate(excluded):
            raise self._unservable(failures)
        waiter = Waiter(
            priority=priority,
            arrival=arrival,
            excluded=excluded,
            failures=failures,
            granted=asyncio.get_running_loop().create_future(),
        )
        self._queue.push(waiter)
        self._grant()
        if not waiter.granted.done():
            evicted = self._queue.overflow()
            if evicted is not None:
                evicted.granted.set_exception(self._queue_full(evicted))
        if not waiter.granted.done():
            try:
                await asyncio.wait((waiter.granted,), timeout=max(0.0, deadline - self._clock()))
            except asyncio.CancelledError:
                self._abandon(waiter)
                raise
            if not waiter.granted.done():
                self._queue.remove(waiter)
                waiter.granted.cancel()
                raise self._deadline_error("while it waited in the queue", failures)
        return waiter.granted.result()

    async def _attempt(
        self, pod: PodState, request: RequestT, deadline: float, attempt: int
    ) -> ReplyT | _Fault:
        """Send once; the reply, or the fault to retry on another pod."""
        scoring = self.policy.scoring
        started = self._clock()
        timeout = max(0.0, deadline - started)
        sending = asyncio.ensure_future(self._send(pod.pod, request, timeout))
        sending.add_done_callback(_consume_outcome)
        gone = pod.gone()
        try:
            await asyncio.wait(
                (sending, gone), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            sending.cancel()
            raise
        now = self._clock()
        elapsed = now - started
        if not sending.done():
            sending.cancel()
            if gone.done():
                return _Fault(pod.name, "removed while the request ran")
            pod.record_at_least(elapsed, scoring)
            raise DeadlineExceededError(
                f"the deadline passed while pod {pod.name} ran the request "
                f"(attempt {attempt}, {elapsed * 1000:.0f} ms)",
                attempts=attempt,
            )
        if sending.cancelled():
            pod.record_fault(elapsed, now, scoring)
            return _Fault(pod.name, "the attempt was cancelled")
        error = sending.exception()
        if error is not None:
            pod.record_fault(elapsed, now, scoring)
            return _Fault(pod.name, f"{type(error).__name__}: {error}".rstrip(": "))
        reply = sending.result()
        if is_pod_fault(reply.status_code):
            pod.record_fault(elapsed, now, scoring)
            return _Fault(pod.name, f"answered {reply.status_code}")
        pod.record_reply(elapsed, now, scoring)
        return reply

    def _release(self, pod: PodState) -> None:
        pod.outstanding -= 1
        self._in_flight -= 1
        self._grant()

    def _abandon(self, waiter: Waiter) -> None:
        """The waiter's caller went away: leave the queue, or give back a slot just granted."""
        granted = waiter.granted
        if not granted.done():
            self._queue.remove(waiter)
            granted.cancel()
        elif not granted.cancelled() and granted.exception() is None:
            self._release(granted.result())

    def _on_pods_changed(self) -> None:
        self._grant(pods_changed=True)

    def _grant(self, *, pods_changed: bool = False) -> None:
        """Give free slots to the waiters in queue order; fail those no ready pod can serve."""
        if not len(self._queue):
            return
        now = self._clock()
        for waiter in self._queue.in_order():
            pod = self._choose(waiter.excluded, now)
            if pod is not None:
                self._queue.remove(waiter)
                pod.outstanding += 1
                self._in_flight += 1
                waiter.granted.set_result(pod)
            elif pods_changed and not self._has_candidate(waiter.excluded):
                self._queue.remove(waiter)
                waiter.granted.set_exception(self._unservable(waiter.failures))
            elif not pods_changed and not self._has_free_slot():
                return

    def _choose(self, excluded: frozenset[str], now: float) -> PodState | None:
        """The pod of least weighted load with a free slot, not in `excluded`."""
        scoring = self.policy.scoring
        fallback = self._fallback_latency()
        states = {
            state.name: state
            for state in self.pods
            if state.ready and state.outstanding < self._concurrency and state.name not in excluded
        }
        candidates = [
            Candidate(name, state.outstanding, state.score(now, scoring, fallback))
            for name, state in states.items()
        ]
        chosen = pick(candidates, self._turn)
        if chosen is None:
            return None
        self._turn += 1
        return states[chosen.name]

    def _has_candidate(self, excluded: frozenset[str]) -> bool:
        return any(state.name not in excluded for state in self.pods.ready_pods())

    def _has_free_slot(self) -> bool:
        return any(state.outstanding < self._concurrency for state in self.pods.ready_pods())

    def _fallback_latency(self) -> float:
        """Latency assumed for a pod with no history: the mean of those with one."""
        known = [state.latency_s for state in self.pods if state.latency_s is not None]
        return sum(known) / len(known) if known else self.policy.scoring.default_latency_s

    def _answers_per_second(self) -> float:
        """How fast the ready pods clear requests, from their scores."""
        now = self._clock()
        fallback = self._fallback_latency()
        return sum(
            self._concurrency * state.score(now, self.policy.scoring, fallback)
            for state in self.pods.ready_pods()
        )

    def _queue_full(self, waiter: Waiter) -> QueueFullError:
        rate = self._answers_per_second()
        ahead = self._queue.ahead_of(waiter.priority) + 1
        retry_after = max(1, math.ceil(ahead / rate)) if rate > 0 else 1
        return QueueFullError(
            f"{self._queue.limit} requests already wait for a pod (every ready pod is at its "
            f"concurrency of {self._concurrency}); retry after {retry_after}s",
            attempts=waiter.attempts,
            retry_after=retry_after,
        )

    def _unservable(self, failures: tuple[str, ...]) -> DispatchError:
        if failures:
            return PodsFailedError(
                "no ready pod is left that the request has not failed on: " + "; ".join(failures),
                attempts=len(failures),
            )
        not_ready = len(self.pods)
        return NoReadyPodError(
            "the endpoint has no ready pod"
            + (f" ({not_ready} not ready)" if not_ready else " (it has no pod)"),
        )

    def _deadline_error(self, when: str, failures: tuple[str, ...]) -> DeadlineExceededError:
        detail = f"the request's deadline passed {when}"
        if failures:
            detail += " (earlier attempts: " + "; ".join(failures) + ")"
        return DeadlineExceededError(detail, attempts=len(failures))

    def stats(self) -> DispatchStats:
        """A snapshot of the queue, the counters, the latency window and each pod's score."""
        now = self._clock()
        scoring = self.policy.scoring
        fallback = self._fallback_latency()
        pods = [
            PodStats(
                name=state.name,
                address=state.pod.address,
                ready=state.ready,
                outstanding=state.outstanding,
                concurrency=self._concurrency,
                latency_ms=None if state.latency_s is None else round(state.latency_s * 1000, 3),
                error_rate=round(state.error_rate_at(now, scoring), 6),
                score=round(state.score(now, scoring, fallback), 6),
                served=state.served,
                faults=state.faults,
            )
            for state in sorted(self.pods, key=lambda state: state.name)
        ]
        counters = self._counters
        return DispatchStats(
            queue_limit=self._queue.limit,
            queued=len(self._queue),
            queued_by_priority={p.value: n for p, n in self._queue.depth_by_priority().items()},
            queue_high_watermark=self._queue.high_watermark,
            in_flight=self._in_flight,
            in_progress=self._in_progress,
            received=counters.received,
            answered=counters.answered,
            rejected=counters.rejected,
            cancelled=counters.cancelled,
            retries=counters.retries,
            errors=dict(counters.errors),
            latency=self._latency.summary(),
            latency_by_priority={p.value: self._latency.summary(p) for p in PRIORITY_ORDER},
            ready_pods=len(self.pods.ready_pods()),
            busy_pods=sum(1 for pod in pods if pod.ready and pod.outstanding >= pod.concurrency),
            concurrency=self._concurrency,
            pods=pods,
        )
