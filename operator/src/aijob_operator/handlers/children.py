"""The Jobs and Pods an AIJob owns: compact indices, and a reconcile of the owner on change.

Only a change of what the operator reads (the compact view) queues the owner: most
watch events of a pod (heartbeats, resource versions, managed fields) change nothing
the status is made of.
"""

from __future__ import annotations

from typing import Any

import kopf

from aijob_operator.handlers.lifecycle import STATE
from aijob_operator.kopf_settings import JOB_SELECTOR, POD_SELECTOR
from aijob_operator.runtime import OperatorState
from aijob_operator.store import Key
from aijob_operator.views import JobView, PodView, owner_key


@kopf.index(*JOB_SELECTOR, id="aijob_jobs")
async def aijob_jobs(body: kopf.Body, **_: Any) -> dict[Key, JobView] | None:
    """Jobs by the AIJob they belong to."""
    key = owner_key(body)
    return {key: JobView.from_body(body)} if key else None


@kopf.index(*POD_SELECTOR, id="aijob_pods")
async def aijob_pods(body: kopf.Body, **_: Any) -> dict[Key, PodView] | None:
    """Pods by the AIJob they belong to."""
    key = owner_key(body)
    return {key: PodView.from_body(body)} if key else None


@kopf.on.event(*JOB_SELECTOR, id="aijob_job_changed")
async def job_changed(
    type: str | None,  # noqa: A002 - kopf's name
    body: kopf.Body,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """A Job changed: reconcile its AIJob if anything the operator reads changed."""
    _changed(memo[STATE], type, body, JobView.from_body(body))


@kopf.on.event(*POD_SELECTOR, id="aijob_pod_changed")
async def pod_changed(
    type: str | None,  # noqa: A002 - kopf's name
    body: kopf.Body,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """A Pod changed: reconcile its AIJob if anything the operator reads changed."""
    _changed(memo[STATE], type, body, PodView.from_body(body))


def _changed(state: OperatorState, event: str | None, body: kopf.Body, view: object) -> None:
    key = owner_key(body)
    uid = str(body.get("metadata", {}).get("uid", ""))
    if key is None:
        return
    if event == "DELETED":
        state.child_views.pop(uid, None)
        state.queue.add(key)
        return
    fingerprint = hash(view)
    if state.child_views.get(uid) != fingerprint:
        state.child_views[uid] = fingerprint
        state.queue.add(key)
