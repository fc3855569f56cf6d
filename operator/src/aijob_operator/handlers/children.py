"""The Jobs and Pods an AIJob owns: compact indices, and a reconcile of the owner on change."""

from __future__ import annotations

from typing import Any

import kopf

from aijob_operator.handlers.lifecycle import STATE
from aijob_operator.kopf_settings import JOB_SELECTOR, POD_SELECTOR
from aijob_operator.runtime import OperatorState
from aijob_operator.store import Key
from aijob_operator.views import JobView, PodView, owner_key


@kopf.index(*JOB_SELECTOR, id="aijob_jobs")
def aijob_jobs(body: kopf.Body, **_: Any) -> dict[Key, JobView] | None:
    """Jobs by the AIJob they belong to."""
    key = owner_key(body)
    return {key: JobView.from_body(body)} if key else None


@kopf.index(*POD_SELECTOR, id="aijob_pods")
def aijob_pods(body: kopf.Body, **_: Any) -> dict[Key, PodView] | None:
    """Pods by the AIJob they belong to."""
    key = owner_key(body)
    return {key: PodView.from_body(body)} if key else None


@kopf.on.event(*JOB_SELECTOR, id="aijob_job_changed")
@kopf.on.event(*POD_SELECTOR, id="aijob_pod_changed")
def child_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """A child changed: reconcile its AIJob (the index already holds the new view)."""
    key = owner_key(body)
    if key is not None:
        state: OperatorState = memo[STATE]
        state.queue.add(key)
