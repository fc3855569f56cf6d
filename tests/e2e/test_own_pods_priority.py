"""aijob's own pods are never the victims: with the real node asked for all its CPU by jobs
of every priority, the scheduler finds no pod to preempt for them, because the operator and
the gateway run above every job's PriorityClass (the chart's `priorityClassName`). The jobs
wait Queued/Unschedulable; the operator's and the gateway's pods stay the same pods, never
restarted, with no `Preempted` Event."""

from __future__ import annotations

import httpx
from aijob_kube.resources import AIJobResource
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import Event, Node, Pod

from tests.e2e.conftest import Release
from tests.e2e.jobs import sklearn_training, submit, unique
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob

PRIORITIES = ("low", "normal", "high")


def _millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def _own_pods(kube: Client, release: Release) -> dict[str, tuple[str, int]]:
    """The release's operator and gateway pods: name -> (uid, restarts)."""
    found: dict[str, tuple[str, int]] = {}
    for pod in kube.list(Pod, namespace=release.namespace):
        name = pod.metadata.name if pod.metadata else None
        if not name or not name.startswith((f"{release.name}-operator", release.gateway)):
            continue
        statuses = (pod.status.containerStatuses if pod.status else None) or []
        restarts = sum(status.restartCount for status in statuses)
        found[name] = (str(pod.metadata.uid if pod.metadata else ""), restarts)
    return found


def test_jobs_of_every_priority_never_preempt_the_operator_or_the_gateway(
    release: Release, api: httpx.Client, kube: Client
) -> None:
    (node,) = kube.list(Node, labels={"aijob.dev/real-node": "true"})
    allocatable = (node.status.allocatable if node.status else None) or {}
    whole_node = f"{_millicores(allocatable['cpu']) - 1}m"
    before = _own_pods(kube, release)
    assert any(name.startswith(f"{release.name}-operator") for name in before), before
    assert any(name.startswith(release.gateway) for name in before), before
    for pod in kube.list(Pod, namespace=release.namespace):
        if pod.metadata and pod.metadata.name in before and pod.spec:
            assert pod.spec.priorityClassName, f"{pod.metadata.name} runs without a priority"

    names = {priority: unique(f"greedy-{priority}") for priority in PRIORITIES}
    try:
        for priority, name in names.items():
            spec = sklearn_training()
            spec["priority"] = priority
            spec["resources"] = {"cpu": whole_node, "memory": "256Mi"}
            submit(api, name, spec)

        def all_wait_unschedulable() -> bool:
            for name in names.values():
                status = get_aijob(kube, release.tenant, name).get("status", {})
                assert (status.get("phase"), status.get("reason")) == (
                    "Queued",
                    "Unschedulable",
                ), (name, status.get("phase"), status.get("reason"), status.get("message"))
            return True

        eventually(all_wait_unschedulable, timeout=Timeout.SCHEDULING, what="jobs unschedulable")
        message = get_aijob(kube, release.tenant, names["high"])["status"]["message"]
        assert "preemption" in message.lower(), message  # the scheduler did try
        assert _own_pods(kube, release) == before, "the operator or the gateway was replaced"
        for event in kube.list(Event, namespace=release.namespace):
            involved = event.involvedObject.name if event.involvedObject else None
            assert not (event.reason == "Preempted" and involved in before), event.message
    finally:
        for name in names.values():
            try:
                kube.delete(AIJobResource, name, namespace=release.tenant)
            except ApiError as error:
                if error.status.code != 404:
                    raise
