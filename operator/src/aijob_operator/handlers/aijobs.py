"""AIJob watch events: remember the latest body and queue the AIJob (and its dependents)."""

from __future__ import annotations

from typing import Any

import kopf
from aijob_api.constants import GROUP, PLURAL, VERSION

from aijob_operator.handlers.lifecycle import STATE
from aijob_operator.runtime import OperatorState
from aijob_operator.store import key_of


@kopf.on.event(GROUP, VERSION, PLURAL, id="aijob")
def aijob_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:  # noqa: A002
    """Every change of an AIJob (and the initial listing) queues a reconcile."""
    state: OperatorState = memo[STATE]
    raw = _raw(body)
    key = key_of(raw)
    if type == "DELETED":
        state.store.remove(key)
        state.queue.discard(key)
    else:
        state.store.put(raw)
        state.queue.add(key)
    for dependent in state.store.dependents(key):
        state.queue.add(dependent)


def _raw(body: kopf.Body) -> dict[str, Any]:
    """The plain dict behind kopf's read-only body view."""
    return {key: body[key] for key in body}
