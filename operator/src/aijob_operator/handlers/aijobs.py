"""AIJob watch events: remember the latest body and queue the AIJob and what depends on it
(inference AIJobs and AIEndpoints that load its model); a deleted AIJob's artifacts go
(`aijob_operator.artifacts`)."""

from __future__ import annotations

from typing import Any

import kopf
from aijob_api.conditions import FINISHED_PHASES
from aijob_api.constants import GROUP, KIND, PLURAL, VERSION

from aijob_operator.handlers.lifecycle import STATE
from aijob_operator.runtime import OperatorState
from aijob_operator.store import key_of


@kopf.on.event(GROUP, VERSION, PLURAL, id="aijob")
async def aijob_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:  # noqa: A002
    """Every change of an AIJob (and the initial listing) queues a reconcile."""
    state: OperatorState = memo[STATE]
    raw = raw_body(body)
    if state.ignores(type, raw, KIND):
        return
    key = key_of(raw)
    if type == "DELETED":
        state.store.remove(key)
        state.queue.discard(key)
        if state.leads():  # a standby deletes nothing (a deletion it saw is not replayed)
            state.reconciler.artifacts.job_deleted(raw)
    else:
        state.store.put(raw)
        state.queue.add(key, urgent=needs_action(raw))
    for dependent in state.store.dependents(key):
        state.queue.add(dependent)
    if state.endpoints is not None:
        for endpoint in state.endpoints.store.dependents(key):
            state.endpoints.queue.add(endpoint)


def needs_action(body: dict[str, Any]) -> bool:
    """A new AIJob (no Job yet) or an unfinished one being cancelled goes before status work."""
    status = body.get("status") or {}
    if status.get("phase") in FINISHED_PHASES:
        return False
    return not status.get("jobName") or bool((body.get("spec") or {}).get("cancel"))


def raw_body(body: kopf.Body) -> dict[str, Any]:
    """The plain dict behind kopf's read-only body view."""
    return {key: body[key] for key in body}
