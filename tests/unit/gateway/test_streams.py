"""Stream slots: a few per key and a bounded number in all, 429 naming the full limit, and a
slot given back however its stream ends (done, failed, cancelled, closed, never read)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest
from aijob_gateway.errors import RateLimitedError
from aijob_gateway.security.streams import LeasedStream, StreamSlots


def test_per_key_then_total_limits() -> None:
    slots = StreamSlots(per_key=2, total=3)
    held = [slots.acquire("a"), slots.acquire("a")]
    with pytest.raises(RateLimitedError, match="log_streams_per_key=2") as per_key:
        slots.acquire("a")
    assert "key a already holds 2" in per_key.value.detail
    assert per_key.value.headers["Retry-After"]
    held.append(slots.acquire("b"))
    with pytest.raises(RateLimitedError, match="log_streams_total=3"):
        slots.acquire("c")
    held[0].release()
    held[0].release()  # twice is once
    assert slots.open_streams("a") == 1
    assert slots.open_streams() == 2
    held.append(slots.acquire("c"))
    for lease in held:
        lease.release()
    assert slots.open_streams() == 0
    assert slots.open_streams("a") == 0


async def chunks(count: int, fail: bool = False) -> AsyncIterator[bytes]:
    for index in range(count):
        yield b"line %d\n" % index
    if fail:
        raise ConnectionError("the API server went away")


async def test_a_stream_read_to_its_end_gives_its_slot_back() -> None:
    slots = StreamSlots(per_key=1, total=1)
    stream = LeasedStream(chunks(3), slots.acquire("a"))
    assert [chunk async for chunk in stream] == [b"line 0\n", b"line 1\n", b"line 2\n"]
    assert slots.open_streams() == 0


async def test_a_failed_stream_gives_its_slot_back() -> None:
    slots = StreamSlots(per_key=1, total=1)
    stream = LeasedStream(chunks(1, fail=True), slots.acquire("a"))
    with pytest.raises(ConnectionError):
        _ = [chunk async for chunk in stream]
    assert slots.open_streams() == 0


async def test_a_cancelled_stream_gives_its_slot_back() -> None:
    slots = StreamSlots(per_key=1, total=1)
    started = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        yield b"first\n"
        started.set()
        await asyncio.Event().wait()  # a followed log that stays quiet
        yield b"never\n"

    stream = LeasedStream(endless(), slots.acquire("a"))

    async def consume() -> None:
        async for _ in stream:
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    assert slots.open_streams("a") == 1
    task.cancel()  # the client disconnected
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slots.open_streams() == 0


async def test_a_closed_or_never_read_stream_gives_its_slot_back() -> None:
    slots = StreamSlots(per_key=2, total=2)
    closed = LeasedStream(chunks(3), slots.acquire("a"))
    assert await anext(closed) == b"line 0\n"
    await closed.aclose()
    assert slots.open_streams() == 0
    dropped = LeasedStream(chunks(3), slots.acquire("a"))
    assert slots.open_streams() == 1
    del dropped
    gc.collect()
    assert slots.open_streams() == 0


@pytest.mark.parametrize(("per_key", "total"), [(0, 1), (1, 0)])
def test_invalid_limits(per_key: int, total: int) -> None:
    with pytest.raises(ValueError, match="per_key"):
        StreamSlots(per_key, total)
