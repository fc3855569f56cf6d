"""The informer's cache and sink: views by owner, changes notified, children moved or gone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable, Mapping
from typing import Any

from aijob_api.constants import LABEL_JOB_NAME
from aijob_operator.informer import ChildCache, ChildSink
from aijob_operator.refusals import PodRefusal, refusal_owner
from aijob_operator.views import ChildKey


def test_apply_reports_only_changes() -> None:
    cache = ChildCache()
    assert cache.apply("u1", ("ns", "a"), ("Running", 1))
    assert not cache.apply("u1", ("ns", "a"), ("Running", 1)), "same view, no reconcile"
    assert cache.apply("u1", ("ns", "a"), ("Succeeded", 1))
    assert list(cache.get(("ns", "a"))) == [("Succeeded", 1)]
    assert list(cache.get(("ns", "b"))) == []


def test_remove_and_namespaces() -> None:
    cache = ChildCache()
    cache.apply("u1", ("ns", "a"), "x")
    cache.apply("u2", ("ns", "a"), "y")
    cache.apply("u3", ("other", "b"), "z")
    assert cache.uids_in("ns") == {"u1", "u2"}
    assert cache.uids_in(None) == {"u1", "u2", "u3"}
    assert cache.remove("u1") == ("ns", "a")
    assert cache.remove("u1") is None
    assert list(cache.get(("ns", "a"))) == ["y"]
    assert cache.remove("u2") == ("ns", "a")
    assert list(cache.get(("ns", "a"))) == []
    assert len(cache) == 1


def test_a_relabelled_child_moves_to_its_new_owner() -> None:
    cache = ChildCache()
    cache.apply("u1", ("ns", "a"), "x")
    cache.apply("u1", ("ns", "b"), "x")
    assert list(cache.get(("ns", "a"))) == []
    assert list(cache.get(("ns", "b"))) == ["x"]


def child(uid: str, namespace: str, owner: str, phase: str) -> dict[str, Any]:
    return {
        "metadata": {"uid": uid, "namespace": namespace, "labels": {LABEL_JOB_NAME: owner}},
        "status": {"phase": phase},
    }


def phase_view(body: Mapping[str, Any]) -> Hashable:
    return str(body["status"]["phase"])


async def listed(objects: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for obj in objects:
        yield obj


async def test_a_list_replaces_its_namespace_only_and_notifies_each_change() -> None:
    cache = ChildCache()
    notified: list[ChildKey] = []
    cache.apply("elsewhere", ("other", "c"), "Running")
    sink = ChildSink(cache, "ns", phase_view, notified.append)
    await sink.replace(
        listed([child("u1", "ns", "a", "Running"), child("u2", "ns", "b", "Pending")])
    )
    assert sorted(notified) == [("ns", "a"), ("ns", "b")]

    notified.clear()
    await sink.replace(listed([child("u1", "ns", "a", "Running")]))
    assert notified == [("ns", "b")], "u2 was not listed again: gone, its owner told"
    assert list(cache.get(("ns", "b"))) == []
    assert list(cache.get(("other", "c"))) == ["Running"], "another namespace's child stays"


def test_events_notify_only_when_a_view_changes() -> None:
    cache = ChildCache()
    notified: list[ChildKey] = []
    sink = ChildSink(cache, None, phase_view, notified.append)
    sink.apply("ADDED", child("u1", "ns", "a", "Running"))
    sink.apply("MODIFIED", child("u1", "ns", "a", "Running"))
    sink.apply("MODIFIED", child("u1", "ns", "a", "Succeeded"))
    sink.apply("ADDED", {"metadata": {"uid": "u9", "namespace": "ns"}, "status": {}})
    sink.apply("DELETED", child("u1", "ns", "a", "Succeeded"))
    sink.apply("DELETED", child("u1", "ns", "a", "Succeeded"))
    assert notified == [("ns", "a")] * 3
    assert len(cache) == 0


def test_a_sink_files_objects_by_the_owner_its_key_function_names() -> None:
    """Events carry no owner label: `refusal_owner` names the AIJob from the Job involved."""
    cache = ChildCache()
    notified: list[ChildKey] = []
    sink = ChildSink(cache, "ns", PodRefusal.from_event, notified.append, key_of=refusal_owner)
    failed_create = {
        "metadata": {"uid": "e1", "namespace": "ns"},
        "involvedObject": {"kind": "Job", "namespace": "ns", "name": "train", "uid": "j1"},
        "message": "exceeded quota: aijob-gpus, requested: x, used: y, limited: z",
        "lastTimestamp": "2026-01-01T12:00:00Z",
    }
    sink.apply("ADDED", failed_create)
    sink.apply("ADDED", {**failed_create, "involvedObject": {"kind": "Pod", "name": "p"}})
    assert notified == [("ns", "train")]
    (refusal,) = cache.get(("ns", "train"))
    assert isinstance(refusal, PodRefusal)
    assert refusal.job_uid == "j1"
