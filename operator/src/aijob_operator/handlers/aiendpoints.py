"""AIEndpoint watch events: remember the latest body and queue the endpoint's reconcile, and the
AIJobs that run on it (`spec.endpoint`)."""

from __future__ import annotations

from typing import Any

import kopf
from aijob_api.constants import ENDPOINT_KIND, ENDPOINT_PLURAL, GROUP, VERSION

from aijob_operator.handlers.aijobs import raw_body
from aijob_operator.handlers.lifecycle import STATE
from aijob_operator.runtime import OperatorState
from aijob_operator.store import key_of


@kopf.on.event(GROUP, VERSION, ENDPOINT_PLURAL, id="aiendpoint")
async def aiendpoint_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:  # noqa: A002
    """Every change of an AIEndpoint (and the initial listing) queues a reconcile."""
    state: OperatorState = memo[STATE]
    if state.endpoints is None:
        return
    raw = raw_body(body)
    if state.ignores(type, raw, ENDPOINT_KIND):
        return
    key = key_of(raw)
    if type == "DELETED":
        state.endpoints.store.remove(key)
        state.endpoints.queue.discard(key)
    else:
        state.endpoints.store.put(raw)
        state.endpoints.queue.add(key, urgent=not (raw.get("status") or {}).get("phase"))
    for job in state.store.endpoint_users(key):
        state.queue.add(job)
