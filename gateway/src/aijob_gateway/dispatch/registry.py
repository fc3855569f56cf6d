"""The dispatchers of every endpoint, each with its pod set, by namespace and endpoint name.

Pod discovery (a watch of the endpoints' pods) fills the pod sets through `pods()`,
whether or not the endpoint was asked anything yet; a request gets the endpoint's
dispatcher through `dispatcher()`, which also applies the endpoint's current
concurrency. One dispatcher per pod set for as long as the entry lives, so a
dispatcher never misses a change of its pods. Still pure: the transport (`send`) and
the policy's defaults are injected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic

from aijob_gateway.dispatch.contract import DispatchPolicy, ReplyT, RequestT, Send
from aijob_gateway.dispatch.dispatcher import Dispatcher
from aijob_gateway.dispatch.pods import PodSet

EndpointKey = tuple[str, str]
"""(namespace, endpoint name)."""


@dataclass(frozen=True)
class EndpointDispatch(Generic[RequestT, ReplyT]):
    """One endpoint's pods and the dispatcher serving them."""

    namespace: str
    endpoint: str
    pods: PodSet
    dispatcher: Dispatcher[RequestT, ReplyT]


class DispatcherRegistry(Generic[RequestT, ReplyT]):
    """Endpoint dispatchers, created on first use by discovery or by a request."""

    def __init__(self, send: Send[RequestT, ReplyT], defaults: DispatchPolicy) -> None:
        self._send = send
        self._defaults = defaults
        self._entries: dict[EndpointKey, EndpointDispatch[RequestT, ReplyT]] = {}

    def _entry(self, namespace: str, endpoint: str) -> EndpointDispatch[RequestT, ReplyT]:
        key = (namespace, endpoint)
        entry = self._entries.get(key)
        if entry is None:
            pods = PodSet()
            entry = EndpointDispatch(
                namespace, endpoint, pods, Dispatcher(pods, self._send, self._defaults)
            )
            self._entries[key] = entry
        return entry

    def pods(self, namespace: str, endpoint: str) -> PodSet:
        """The pod set of an endpoint (made empty on first use)."""
        return self._entry(namespace, endpoint).pods

    def pod_set_keys(self) -> list[EndpointKey]:
        """Every endpoint that has a pod set."""
        return list(self._entries)

    def dispatcher(
        self, namespace: str, endpoint: str, *, concurrency: int
    ) -> Dispatcher[RequestT, ReplyT]:
        """The endpoint's dispatcher, holding at most `concurrency` requests per pod."""
        dispatcher = self._entry(namespace, endpoint).dispatcher
        if dispatcher.concurrency != concurrency:
            dispatcher.set_concurrency(concurrency)
        return dispatcher

    def get(self, namespace: str, endpoint: str) -> Dispatcher[RequestT, ReplyT] | None:
        """The endpoint's dispatcher if it has one (nothing is made)."""
        entry = self._entries.get((namespace, endpoint))
        return None if entry is None else entry.dispatcher

    def forget(self, namespace: str, endpoint: str) -> bool:
        """Drop an endpoint's entry once it has no pod and no request; False while it has."""
        entry = self._entries.get((namespace, endpoint))
        if entry is None:
            return True
        if len(entry.pods) or entry.dispatcher.stats().in_progress:
            return False
        del self._entries[(namespace, endpoint)]
        return True

    def __iter__(self) -> Iterator[EndpointDispatch[RequestT, ReplyT]]:
        return iter(list(self._entries.values()))
