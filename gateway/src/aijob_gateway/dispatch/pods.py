"""The pods (replicas) of one endpoint as the dispatcher sees them, and the set the caller keeps.

Whoever discovers pods (a watch of the endpoint's pods or EndpointSlices, a test)
tells the `PodSet` which pods exist and which are ready; the dispatcher listens to
it. A removed pod's in-flight requests are told at once (`PodState.gone`) and fail
over to another pod; a pod that is no longer ready keeps its in-flight requests
(they finish, as in a graceful drain) but gets no new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from aijob_gateway.dispatch.scoring import ScoringPolicy, decayed, moving_average, score


@dataclass(frozen=True)
class Pod:
    """One replica: its name and the address requests are sent to (opaque to the dispatcher)."""

    name: str
    address: str


class PodState:
    """A pod's readiness, the requests it holds and the averages its score comes from."""

    def __init__(self, pod: Pod, *, ready: bool) -> None:
        self.pod = pod
        self.ready = ready
        self.outstanding = 0
        """Requests sent to it (or granted a slot on it) and not answered yet."""
        self.latency_s: float | None = None
        """Moving average of its reply latency; None until it has answered once."""
        self.error_rate = 0.0
        """Moving average of pod faults per attempt, as of `error_updated_at`."""
        self.error_updated_at = 0.0
        self.served = 0
        """Attempts it answered (any status that is not a pod fault)."""
        self.faults = 0
        """Attempts that failed on its fault."""
        self.removed = False
        self._gone: asyncio.Future[None] | None = None

    @property
    def name(self) -> str:
        """The pod's name."""
        return self.pod.name

    def error_rate_at(self, now: float, policy: ScoringPolicy) -> float:
        """The error rate decayed to `now`."""
        return decayed(self.error_rate, now - self.error_updated_at, policy.error_half_life_s)

    def score(self, now: float, policy: ScoringPolicy, fallback_latency_s: float) -> float:
        """Its score now; a pod with no latency yet is taken to have `fallback_latency_s`."""
        latency = self.latency_s if self.latency_s is not None else fallback_latency_s
        return score(latency, self.error_rate_at(now, policy), policy)

    def record_reply(self, latency_s: float, now: float, policy: ScoringPolicy) -> None:
        """It answered (a result or a refusal of the request) in `latency_s`."""
        self.served += 1
        self.latency_s = moving_average(self.latency_s, latency_s, policy.latency_alpha)
        self._record_outcome(0.0, now, policy)

    def record_fault(self, elapsed_s: float, now: float, policy: ScoringPolicy) -> None:
        """An attempt failed on its fault after `elapsed_s`.

        A quick failure (connection refused) says nothing of how fast the pod answers,
        so it never makes the pod look faster; a slow one (a timeout) does count.
        """
        self.faults += 1
        self.record_at_least(elapsed_s, policy)
        self._record_outcome(1.0, now, policy)

    def record_at_least(self, elapsed_s: float, policy: ScoringPolicy) -> None:
        """The pod took at least `elapsed_s` (no reply yet): a latency sample only if slower."""
        if self.latency_s is None or elapsed_s > self.latency_s:
            self.latency_s = moving_average(self.latency_s, elapsed_s, policy.latency_alpha)

    def _record_outcome(self, sample: float, now: float, policy: ScoringPolicy) -> None:
        current = self.error_rate_at(now, policy)
        self.error_rate = moving_average(current, sample, policy.error_alpha)
        self.error_updated_at = now

    def gone(self) -> asyncio.Future[None]:
        """A future done once the pod is removed (made on first use, in the running loop)."""
        if self._gone is None:
            self._gone = asyncio.get_running_loop().create_future()
            if self.removed:
                self._gone.set_result(None)
        return self._gone

    def mark_removed(self) -> None:
        """The pod left the set: wake the attempts waiting on it."""
        self.removed = True
        self.ready = False
        if self._gone is not None and not self._gone.done():
            self._gone.set_result(None)


PodSetListener = Callable[[], None]


class PodSet:
    """The pods of one endpoint, updated by the caller; listeners hear of every change.

    Call it from the event loop that runs the dispatcher: listeners grant queued
    requests their slots on the spot.
    """

    def __init__(self) -> None:
        self._pods: dict[str, PodState] = {}
        self._listeners: list[PodSetListener] = []

    def subscribe(self, listener: PodSetListener) -> None:
        """Call `listener` after each change of the set."""
        self._listeners.append(listener)

    def upsert(self, pod: Pod, *, ready: bool) -> None:
        """Add a pod or update its address and readiness (its history is kept)."""
        state = self._pods.get(pod.name)
        if state is None:
            self._pods[pod.name] = PodState(pod, ready=ready)
        elif state.pod == pod and state.ready == ready:
            return
        else:
            state.pod = pod
            state.ready = ready
        self._changed()

    def set_ready(self, name: str, *, ready: bool) -> None:
        """Change a known pod's readiness; an unknown name is ignored."""
        state = self._pods.get(name)
        if state is None or state.ready == ready:
            return
        state.ready = ready
        self._changed()

    def remove(self, name: str) -> None:
        """Remove a pod; requests in flight on it fail over to another pod."""
        state = self._pods.pop(name, None)
        if state is None:
            return
        state.mark_removed()
        self._changed()

    def sync(self, pods: Mapping[Pod, bool]) -> None:
        """Make the set exactly `pods` (each with its readiness), as a relist would."""
        wanted = {pod.name: (pod, ready) for pod, ready in pods.items()}
        changed = False
        for name in [name for name in self._pods if name not in wanted]:
            self._pods.pop(name).mark_removed()
            changed = True
        for name, (pod, ready) in wanted.items():
            state = self._pods.get(name)
            if state is None:
                self._pods[name] = PodState(pod, ready=ready)
                changed = True
            elif state.pod != pod or state.ready != ready:
                state.pod, state.ready = pod, ready
                changed = True
        if changed:
            self._changed()

    def get(self, name: str) -> PodState | None:
        """The state of a pod of the set."""
        return self._pods.get(name)

    def __iter__(self) -> Iterator[PodState]:
        return iter(list(self._pods.values()))

    def __len__(self) -> int:
        return len(self._pods)

    def ready_pods(self) -> list[PodState]:
        """The pods that may take new requests."""
        return [state for state in self._pods.values() if state.ready]

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()
