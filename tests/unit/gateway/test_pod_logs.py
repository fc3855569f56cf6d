"""A log read without follow is capped: everything up to the cap, then a line saying it was
cut; a log of exactly the cap is not marked; the API server's stream is closed either way."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest
from aijob_gateway.kube.pod_logs import capped, cut_marker


class Chunks:
    """An API server's log body in chunks, remembering whether it was closed."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.closed = False

    async def stream(self) -> AsyncGenerator[bytes, None]:
        try:
            for chunk in self.chunks:
                yield chunk
        finally:
            self.closed = True


async def read(chunks: Chunks, max_bytes: int) -> bytes:
    return b"".join([chunk async for chunk in capped(chunks.stream(), max_bytes)])


@pytest.mark.parametrize(
    "chunks",
    [(b"0123456789",), (b"0123", b"456789"), (b"01234", b"", b"56789")],
    ids=["one", "two", "with-empty"],
)
async def test_a_log_within_the_cap_is_whole_and_unmarked(chunks: tuple[bytes, ...]) -> None:
    source = Chunks(*chunks)
    assert await read(source, 10) == b"0123456789"
    assert source.closed


async def test_a_longer_log_is_cut_at_the_cap_with_a_marker_on_a_line_of_its_own() -> None:
    source = Chunks(b"line one\nline t", b"wo\nline three\n", b"never read\n")
    text = await read(source, 12)
    assert text.startswith(b"line one\nlin")
    assert text == b"line one\nlin" + cut_marker(12, b"line one\nlin")
    assert text.endswith(
        b"\n[aijob gateway: log cut at 12 bytes (gateway setting logs_max_bytes); "
        b"read the rest with tail or sinceSeconds]\n"
    )
    assert source.closed


async def test_a_cut_at_a_line_end_adds_no_empty_line() -> None:
    text = await read(Chunks(b"abc\n", b"def\n"), 4)
    assert text == b"abc\n[aijob gateway: log cut at 4 bytes" + text.split(b"4 bytes", 1)[1]
    assert text.count(b"\n") == 2


def test_the_marker_starts_a_line() -> None:
    assert cut_marker(5, b"abc").startswith(b"\n[aijob gateway:")
    assert cut_marker(5, b"abc\n").startswith(b"[aijob gateway:")
