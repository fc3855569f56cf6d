"""List-then-watch a kind of object and keep a sink current, as client-go's reflector does.

`run` lists (the sink replaces its whole content and counts as synced), then
watches from the list's resourceVersion and applies each event. A watch that
the server ends normally is renewed from the last seen version (one that ends at
once is a failure: listed again after a back-off). A watch that stays silent past
its deadline (the server's own watch timeout plus a grace, so a healthy watch has
ended by then) is presumed dead, a half-open connection the server will never
close, and is renewed from the last seen version too. An expired version (410
Gone) means events were missed, so the reflector lists again. Any other failure,
an unexpected exception included (an event that does not decode, a bug in a
sink), is logged, marks the sink stale, backs off (capped exponential) and lists
again: the loop never dies while the cache goes on claiming to be current.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, Protocol

from lightkube import ApiError

from aijob_gateway.kube.errors import TRANSPORT_ERRORS

log = logging.getLogger(__name__)

MIN_WATCH_SECONDS = 1.0
"""A watch the server ends sooner than this is treated as a failure, not renewed."""


class Listing(Protocol):
    """A list response as lightkube's async client streams it: objects, then its version."""

    @property
    def resourceVersion(self) -> str:  # noqa: N802 (lightkube's name)
        """The list's resourceVersion (known once iterated)."""
        ...

    def __aiter__(self) -> AsyncIterator[Any]:
        """The listed objects."""
        ...


Lister = Callable[[], Listing]
Watcher = Callable[[str], AsyncIterable[tuple[str, Any]]]


class Sink(Protocol):
    """What a reflector keeps current."""

    def replace(self, objects: list[dict[str, Any]]) -> None:
        """Replace everything with the result of a list."""

    def apply(self, event_type: str, obj: dict[str, Any]) -> None:
        """Apply one watch event (ADDED, MODIFIED, DELETED)."""

    def mark_unsynced(self) -> None:
        """The sink may be stale: a watch broke and a relist is due."""


def as_dict(obj: Any) -> dict[str, Any]:
    """The plain JSON dict of a lightkube object (generic resources are dicts already)."""
    if isinstance(obj, dict):
        return dict(obj)
    result: dict[str, Any] = obj.to_dict()
    return result


class Reflector:
    """Keeps one sink in step with the API server until cancelled."""

    def __init__(
        self,
        name: str,
        lister: Lister,
        watcher: Watcher,
        sink: Sink,
        *,
        max_backoff: float = 30.0,
        silence_deadline: float | None = None,
        on_restart: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self._lister = lister
        self._watcher = watcher
        self._sink = sink
        self._max_backoff = max_backoff
        self._silence_deadline = silence_deadline
        self._on_restart = on_restart or (lambda reason: None)

    async def _list(self) -> str:
        listing = self._lister()
        objects = [as_dict(obj) async for obj in listing]
        version = listing.resourceVersion
        self._sink.replace(objects)
        log.info(
            "listed", extra={"reflector": self.name, "objects": len(objects), "version": version}
        )
        return version

    async def _watch(self, version: str) -> None:
        """Apply events from `version` on, renewing each watch that ends or goes silent.

        Returns only when a watch ended at once (under `MIN_WATCH_SECONDS`): a server
        that ends watches as soon as they start is a failure, handled by listing again
        after a back-off rather than by renewing in a tight loop.
        """
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            events = aiter(self._watcher(version))
            try:
                while True:
                    try:
                        event_type, obj = await asyncio.wait_for(
                            anext(events), timeout=self._silence_deadline
                        )
                    except StopAsyncIteration:
                        break
                    body = as_dict(obj)
                    if event_type in ("ADDED", "MODIFIED", "DELETED"):
                        self._sink.apply(event_type, body)
                    version = (body.get("metadata") or {}).get("resourceVersion") or version
            except TimeoutError:
                log.info(
                    "watch silent past its deadline, renewing it",
                    extra={"reflector": self.name, "version": version},
                )
                self._on_restart("silent")
                continue
            finally:
                await _close(events)
            if loop.time() - started < MIN_WATCH_SECONDS:
                return

    async def run(self) -> None:
        """List and watch forever (until the task is cancelled)."""
        failures = 0
        while True:
            try:
                version = await self._list()
                failures = 0
                await self._watch(version)
                reason = "watch-ended"
            except ApiError as error:
                if error.status.code == 410:
                    log.info("watch expired, listing again", extra={"reflector": self.name})
                    self._on_restart("expired")
                    continue
                failures += 1
                reason = f"api-error-{error.status.code}"
                log.warning(
                    "list/watch refused",
                    extra={"reflector": self.name, "code": error.status.code, "error": str(error)},
                )
            except TRANSPORT_ERRORS as error:
                failures += 1
                reason = "unreachable"
                log.warning(
                    "list/watch failed", extra={"reflector": self.name, "error": repr(error)}
                )
            except Exception:
                failures += 1
                reason = "error"
                log.exception("list/watch crashed", extra={"reflector": self.name})
            self._sink.mark_unsynced()
            self._on_restart(reason)
            await asyncio.sleep(min(self._max_backoff, 0.5 * 2 ** min(failures, 8)))


async def _close(events: AsyncIterator[Any]) -> None:
    """Close a watch's async generator (its HTTP stream) if it has an `aclose`."""
    close = getattr(events, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
