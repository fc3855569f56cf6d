"""The AIJob cache: list, watch events, tenant isolation, invalid objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aijob_gateway.kube.job_cache import JobCache

from tests.unit.gateway.factories import job_manifest, make_job


async def listed(objects: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """A list response as the reflector streams it to the cache."""
    for obj in objects:
        yield obj


async def test_replace_then_read_within_a_namespace() -> None:
    assert not JobCache().synced
    cache = JobCache()
    await cache.replace(listed([job_manifest("a", "team-a"), job_manifest("b", "team-b")]))
    assert cache.synced
    assert cache.get("team-a", "a") is not None
    assert cache.get("team-a", "b") is None
    assert [job.metadata.name for job in cache.list("team-b")] == ["b"]


async def test_same_name_in_two_namespaces_is_two_jobs() -> None:
    cache = JobCache()
    await cache.replace(
        listed([job_manifest("same", "team-a", model_type="svm"), job_manifest("same", "team-b")])
    )
    job_a, job_b = cache.get("team-a", "same"), cache.get("team-b", "same")
    assert job_a is not None
    assert job_b is not None
    assert job_a.spec.model.type == "svm"
    assert job_b.metadata.namespace == "team-b"
    assert all(job.metadata.namespace == "team-a" for job in cache.list("team-a"))


async def test_watch_events_add_modify_delete() -> None:
    cache = JobCache()
    await cache.replace(listed([]))
    cache.apply("ADDED", job_manifest("a"))
    cache.apply("MODIFIED", job_manifest("a", status={"phase": "Running"}))
    job = cache.get("team-a", "a")
    assert job is not None
    assert job.status.phase == "Running"
    cache.apply("DELETED", job_manifest("a"))
    assert cache.get("team-a", "a") is None
    assert cache.list("team-a") == []


async def test_list_is_newest_first_and_refreshed_after_changes() -> None:
    cache = JobCache()
    await cache.replace(
        listed([job_manifest("old", age_minutes=10), job_manifest("new", age_minutes=1)])
    )
    assert [j.metadata.name for j in cache.list("team-a")] == ["new", "old"]
    cache.apply("ADDED", job_manifest("newest", age_minutes=0))
    assert [j.metadata.name for j in cache.list("team-a")] == ["newest", "new", "old"]


async def test_invalid_objects_are_not_served_and_are_counted() -> None:
    invalid: list[int] = []
    cache = JobCache(on_invalid=lambda: invalid.append(1))
    broken = job_manifest("broken")
    broken["spec"]["task"] = "dreaming"
    await cache.replace(listed([broken, job_manifest("fine")]))
    assert cache.get("team-a", "broken") is None
    assert cache.get("team-a", "fine") is not None
    cache.apply("MODIFIED", {**job_manifest("fine"), "spec": {"task": "nope"}})
    assert cache.get("team-a", "fine") is None
    assert len(invalid) == 2


async def test_own_writes_do_not_overwrite_newer_watch_state() -> None:
    cache = JobCache()
    await cache.replace(
        listed([job_manifest("a", resource_version="10", status={"phase": "Running"})])
    )
    cache.upsert_if_newer(make_job("a", resource_version="9"))
    job = cache.get("team-a", "a")
    assert job is not None
    assert job.status.phase == "Running"
    cache.upsert_if_newer(make_job("a", resource_version="11", status={"phase": "Cancelled"}))
    job = cache.get("team-a", "a")
    assert job is not None
    assert job.status.phase == "Cancelled"
    cache.upsert_if_newer(make_job("fresh", resource_version="12"))
    assert cache.get("team-a", "fresh") is not None
