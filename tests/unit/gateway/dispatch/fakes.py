"""A fake `send` for the dispatcher's tests: scripted pod replies, failures and held requests.

It is an in-process async function standing in for the HTTP call to a model
server pod, not for the Kubernetes API.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aijob_api.priority import Priority
from aijob_gateway.dispatch import Dispatcher, DispatchPolicy, DispatchResult, Pod, PodSet

LONG_DEADLINE_S = 30.0
"""A deadline no test that expects an answer comes near."""


@dataclass(frozen=True)
class Reply:
    """What a fake pod answers."""

    status_code: int
    body: str = ""


OK = Reply(200, "ok")


@dataclass(eq=False)
class Hold:
    """A reply held back until the test releases it; `started` is set once a pod runs it."""

    reply: Reply = OK
    started: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False

    def release(self) -> None:
        """Let the pod answer."""
        self.released.set()


Action = Reply | BaseException | Hold | Callable[[], Reply]
"""A reply, an exception to raise, a held reply, or a function run when the pod is called."""


@dataclass(frozen=True)
class Call:
    """One attempt the dispatcher made."""

    pod: str
    request: object
    timeout: float


class FakeSend:
    """`send` whose pods follow scripts: per pod first, then the shared one, then `default`."""

    def __init__(self, default: Action = OK) -> None:
        self.default = default
        self.calls: list[Call] = []
        self._shared: deque[Action] = deque()
        self._per_pod: dict[str, deque[Action]] = {}

    def script(self, *actions: Action, pod: str | None = None) -> None:
        """The next actions of `pod`, or of whichever pods are called next."""
        queue = self._shared if pod is None else self._per_pod.setdefault(pod, deque())
        queue.extend(actions)

    async def __call__(self, pod: Pod, request: object, timeout_s: float) -> Reply:
        self.calls.append(Call(pod.name, request, timeout_s))
        own = self._per_pod.get(pod.name)
        if own:
            action = own.popleft()
        elif self._shared:
            action = self._shared.popleft()
        else:
            action = self.default
        if isinstance(action, Hold):
            action.started.set()
            try:
                await action.released.wait()
            except asyncio.CancelledError:
                action.cancelled = True
                raise
            return action.reply
        if isinstance(action, BaseException):
            raise action
        if isinstance(action, Reply):
            return action
        return action()

    @property
    def pods_called(self) -> list[str]:
        """The pod of each attempt, in order."""
        return [call.pod for call in self.calls]


class ManualClock:
    """A clock the test moves by hand (the dispatcher's deadlines and scores read it)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def pod_set(*names: str, ready: bool = True) -> PodSet:
    """A pod set of the given pods, each at address `<name>:8080`."""
    pods = PodSet()
    for name in names:
        pods.upsert(Pod(name, f"{name}:8080"), ready=ready)
    return pods


def dispatcher(
    pods: PodSet,
    send: FakeSend,
    *,
    concurrency: int = 1,
    queue_limit: int = 10,
    clock: Callable[[], float] | None = None,
) -> Dispatcher[object, Reply]:
    """A dispatcher over `pods` with `send`."""
    policy = DispatchPolicy(concurrency=concurrency, queue_limit=queue_limit)
    if clock is None:
        return Dispatcher(pods, send, policy)
    return Dispatcher(pods, send, policy, clock=clock)


def start(
    subject: Dispatcher[object, Reply],
    request: object,
    priority: Priority = Priority.NORMAL,
    timeout: float = LONG_DEADLINE_S,
) -> asyncio.Task[DispatchResult[Reply]]:
    """Dispatch in a task of its own, as each HTTP request of the gateway is."""
    deadline = subject.now() + timeout
    return asyncio.create_task(subject.dispatch(request, priority, deadline))
