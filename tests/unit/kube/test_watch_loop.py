"""The list-and-watch loop: survives any error, renews a silent watch, lists again on 410."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from aijob_kube.watch import MIN_WATCH_SECONDS, Reflector
from lightkube import ApiError
from lightkube.models.meta_v1 import Status

# How long a test waits for the reflector to reach the state it expects.
REACTION_SECONDS = 5


class Listing:
    """What lightkube's list returns: async iteration, then a resourceVersion."""

    def __init__(self, objects: list[dict[str, Any]], version: str) -> None:
        self._objects = objects
        self.resourceVersion = version

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        for obj in self._objects:
            yield obj


def obj(name: str, version: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": version}}


class RecordingSink:
    """Records what the reflector did; `apply` fails on the names it is told to."""

    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.synced = False
        self._fail_on = fail_on or set()
        self.changed = asyncio.Event()

    async def replace(self, objects: AsyncIterator[dict[str, Any]]) -> None:
        names = [o["metadata"]["name"] async for o in objects]
        self.calls.append(("replace", ",".join(names)))
        self.synced = True
        self.changed.set()

    def apply(self, event_type: str, body: dict[str, Any]) -> None:
        name = body["metadata"]["name"]
        if name in self._fail_on:
            self._fail_on.discard(name)
            raise RuntimeError(f"sink cannot take {name}")
        self.calls.append((event_type, name))
        self.changed.set()

    def mark_unsynced(self) -> None:
        self.calls.append(("unsynced", ""))
        self.synced = False

    async def until(self, call: tuple[str, str]) -> None:
        async def seen() -> None:
            while call not in self.calls:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(seen(), timeout=REACTION_SECONDS)


async def run_until(reflector: Reflector, sink: RecordingSink, call: tuple[str, str]) -> None:
    task = asyncio.create_task(reflector.run())
    try:
        await sink.until(call)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_an_error_in_the_sink_marks_it_stale_and_lists_again() -> None:
    sink = RecordingSink(fail_on={"bad"})
    lists = iter([Listing([], "1"), Listing([obj("bad", "2")], "3")])
    watched: list[str] = []

    async def watcher(version: str) -> AsyncIterator[tuple[str, Any]]:
        watched.append(version)
        if version == "1":
            yield "ADDED", obj("bad", "2")
        else:
            yield "ADDED", obj("good", "4")
            await asyncio.Event().wait()

    reflector = Reflector("jobs", lambda: next(lists), watcher, sink, max_backoff=0.01)
    await run_until(reflector, sink, ("ADDED", "good"))
    assert sink.calls == [
        ("replace", ""),
        ("unsynced", ""),
        ("replace", "bad"),
        ("ADDED", "good"),
    ]
    assert watched == ["1", "3"]
    assert sink.synced


async def test_a_silent_watch_is_renewed_from_the_last_version_without_a_list() -> None:
    sink = RecordingSink()
    listed: list[str] = []
    watched: list[str] = []

    def lister() -> Listing:
        listed.append("list")
        return Listing([], "10")

    async def watcher(version: str) -> AsyncIterator[tuple[str, Any]]:
        watched.append(version)
        if version == "10":
            yield "ADDED", obj("a", "11")
            await asyncio.Event().wait()  # a half-open connection: nothing ever comes
        yield "MODIFIED", obj("a", "12")
        await asyncio.Event().wait()

    reflector = Reflector("jobs", lister, watcher, sink, silence_deadline=0.05)
    await run_until(reflector, sink, ("MODIFIED", "a"))
    assert watched[:2] == ["10", "11"]
    assert listed == ["list"]
    assert sink.synced


async def test_a_watch_the_server_ends_is_renewed_from_the_last_version() -> None:
    sink = RecordingSink()
    listed: list[str] = []
    watched: list[str] = []

    def lister() -> Listing:
        listed.append("list")
        return Listing([], "1")

    async def watcher(version: str) -> AsyncIterator[tuple[str, Any]]:
        watched.append(version)
        if version == "1":
            yield "ADDED", obj("a", "2")
            await asyncio.sleep(MIN_WATCH_SECONDS)  # then the server's timeout ends it
            return
        yield "MODIFIED", obj("a", "3")
        await asyncio.Event().wait()

    reflector = Reflector("jobs", lister, watcher, sink)
    await run_until(reflector, sink, ("MODIFIED", "a"))
    assert watched == ["1", "2"]
    assert listed == ["list"]


async def test_a_watch_that_ends_at_once_lists_again() -> None:
    sink = RecordingSink()
    lists = iter([Listing([], "1"), Listing([obj("a", "5")], "5")])

    async def watcher(version: str) -> AsyncIterator[tuple[str, Any]]:
        if version == "5":
            yield "MODIFIED", obj("a", "6")
            await asyncio.Event().wait()

    reflector = Reflector("jobs", lambda: next(lists), watcher, sink, max_backoff=0.01)
    await run_until(reflector, sink, ("MODIFIED", "a"))
    assert sink.calls == [("replace", ""), ("unsynced", ""), ("replace", "a"), ("MODIFIED", "a")]


def refusal(code: int) -> ApiError:
    return ApiError(status=Status(code=code, reason="Expired" if code == 410 else "Refused"))


async def test_an_expired_version_lists_again_at_once_without_marking_the_sink_stale() -> None:
    sink = RecordingSink()
    lists = iter([Listing([], "1"), Listing([obj("a", "7")], "7")])
    restarts: list[str] = []

    async def watcher(version: str) -> AsyncIterator[tuple[str, Any]]:
        if version == "1":
            raise refusal(410)
        yield "MODIFIED", obj("a", "8")
        await asyncio.Event().wait()

    reflector = Reflector("jobs", lambda: next(lists), watcher, sink, on_restart=restarts.append)
    await run_until(reflector, sink, ("MODIFIED", "a"))
    assert sink.calls == [("replace", ""), ("replace", "a"), ("MODIFIED", "a")]
    assert restarts == ["expired"]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (httpx2.ConnectError("connection refused"), "unreachable"),
        (refusal(403), "api-error-403"),
        (refusal(500), "api-error-500"),
        (KeyError("type"), "error"),
    ],
)
async def test_a_failed_watch_is_counted_by_its_reason_and_the_loop_is_unsynced_until_listed(
    failure: Exception, reason: str
) -> None:
    sink = RecordingSink()
    lists = iter([Listing([], "1"), Listing([obj("a", "3")], "3")])
    restarts: list[str] = []
    reflector: Reflector
    synced_after_failure: list[bool] = []

    def lister() -> Listing:
        if restarts:
            synced_after_failure.append(reflector.synced)
        return next(lists)

    async def watcher(version: str) -> AsyncIterator[tuple[str, Any]]:
        if version == "1":
            raise failure
        yield "MODIFIED", obj("a", "4")
        await asyncio.Event().wait()

    reflector = Reflector(
        "jobs", lister, watcher, sink, max_backoff=0.01, on_restart=restarts.append
    )
    assert not reflector.synced
    await run_until(reflector, sink, ("MODIFIED", "a"))
    assert restarts == [reason]
    assert synced_after_failure == [False]
    assert sink.calls == [("replace", ""), ("unsynced", ""), ("replace", "a"), ("MODIFIED", "a")]
    assert reflector.synced


async def test_wait_synced_returns_once_the_first_list_reached_the_sink() -> None:
    sink = RecordingSink()
    started, release = asyncio.Event(), asyncio.Event()

    class SlowListing(Listing):
        async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
            started.set()
            await release.wait()
            yield obj("a", "1")

    async def watcher(version: str) -> AsyncIterator[tuple[str, Any]]:
        await asyncio.Event().wait()
        yield "MODIFIED", obj("a", version)

    reflector = Reflector("jobs", lambda: SlowListing([], "1"), watcher, sink)
    task = asyncio.create_task(reflector.run())
    try:
        waiting = asyncio.create_task(reflector.wait_synced())
        await asyncio.wait_for(started.wait(), timeout=REACTION_SECONDS)
        assert not waiting.done()
        assert not reflector.synced
        release.set()
        await asyncio.wait_for(waiting, timeout=REACTION_SECONDS)
        assert sink.calls == [("replace", "a")]
        assert reflector.synced
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
