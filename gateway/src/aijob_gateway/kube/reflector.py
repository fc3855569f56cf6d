"""List-then-watch a kind of object and keep a sink current, as client-go's reflector does.

`run` lists (the sink replaces its whole content and counts as synced), then
watches from the list's resourceVersion and applies each event. A watch that
the server ends normally is renewed from the last seen version by lightkube; an
expired version (410 Gone) means events were missed, so the reflector lists
again; any other failure backs off (capped exponential) and lists again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Callable
from typing import Any, Protocol

from lightkube import ApiError
from lightkube.core.generic_client import ListAsyncIterable

from aijob_gateway.kube.errors import TRANSPORT_ERRORS

log = logging.getLogger(__name__)

Lister = Callable[[], ListAsyncIterable[Any]]
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
        on_restart: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self._lister = lister
        self._watcher = watcher
        self._sink = sink
        self._max_backoff = max_backoff
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
        async for event_type, obj in self._watcher(version):
            if event_type in ("ADDED", "MODIFIED", "DELETED"):
                self._sink.apply(event_type, as_dict(obj))

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
            self._sink.mark_unsynced()
            self._on_restart(reason)
            await asyncio.sleep(min(self._max_backoff, 0.5 * 2 ** min(failures, 8)))
