"""The list-and-watch loop (a reflector, as client-go calls it) and the watch stream it reads.

`Reflector.run` lists (the sink replaces its whole content and the loop counts as
synced), then watches from the list's resourceVersion and hands each event to the
sink. A watch that the server ends normally is renewed from the last seen version
(one that ends at once is a failure: listed again after a back-off). A watch that
stays silent past its deadline (the server's own watch timeout plus a grace, so a
healthy watch has ended by then) is presumed dead, a half-open connection the server
will never close, and is renewed from the last seen version too. An expired version
(410 Gone) means events were missed, so the loop lists again at once. Any other
failure, an unexpected exception included (an event that does not decode, a bug in a
sink), is logged, marks the sink stale, backs off (capped exponential) and lists
again: the loop never dies while its cache goes on claiming to be current.

The watch stream is read as bytes and split on b"\\n" alone, the watch protocol's only
frame separator. lightkube's own watch reads it with httpx's `aiter_lines`, which
splits like `str.splitlines`, on U+0085, U+2028, U+001C and the other Unicode line
breaks too; the API server's JSON escapes control characters and U+2028/U+2029 but
writes U+0085 raw, so one object with a NEL in any string cut its event in two and
the half line did not decode. The request itself is built by lightkube (URL,
selectors, auth, TLS); only the reading is ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, Final, Protocol

import httpx2
from lightkube import ApiError, AsyncClient
from lightkube.core.client import FieldSelector, LabelSelector
from lightkube.core.resource import NamespacedResource
from lightkube.core.selector import build_selector
from lightkube.models.meta_v1 import Status

from aijob_kube.errors import ExpiredError, KubeError, kube_errors

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]
"""One watch event: its type (ADDED, MODIFIED, DELETED, BOOKMARK) and the object."""

MIN_WATCH_SECONDS: Final = 1.0
"""A watch the server ends sooner than this is treated as a failure, not renewed."""
WATCH_GRACE_SECONDS: Final = 30
"""How long past its server-side timeout a silent watch is still trusted to be alive."""
MAX_BACKOFF_SECONDS: Final = 30.0


# --- one watch request, read as bytes ---------------------------------------------------


def decode_event(line: bytes) -> Event:
    """One framed watch event; an ERROR event (410 Gone, ...) is raised as ApiError."""
    event = json.loads(line)
    event_type: str = event["type"]
    obj: dict[str, Any] = event["object"]
    if event_type == "ERROR":
        status = Status.from_dict(obj)
        assert isinstance(status, Status)
        raise ApiError(status=status)
    return event_type, obj


def split_frames(buffer: bytes, chunk: bytes) -> tuple[list[bytes], bytes]:
    """Complete newline-terminated frames of `buffer + chunk`, and the incomplete rest."""
    *frames, rest = (buffer + chunk).split(b"\n")
    return [frame for frame in frames if frame.strip()], rest


async def watch_events(
    client: AsyncClient,
    resource: type[NamespacedResource],
    *,
    namespace: str,
    resource_version: str,
    server_timeout: int,
    labels: LabelSelector | None = None,
    fields: FieldSelector | None = None,
) -> AsyncIterator[Event]:
    """The events of one watch request from `resource_version`, until the server ends it."""
    generic = client._client
    params: dict[str, Any] = {
        "timeoutSeconds": server_timeout,
        "resourceVersion": resource_version,
        # As lightkube's own list builds them (its selector types are too narrow to say so).
        "labelSelector": build_selector(list(labels.items())) if labels else None,
        "fieldSelector": build_selector(list(fields.items()), for_fields=True) if fields else None,
    }
    prepared = generic.prepare_request(
        "list", res=resource, namespace=namespace, watch=True, params=params
    )
    http: httpx2.AsyncClient = generic._client
    request = http.build_request(
        prepared.method,
        prepared.url,
        params=prepared.params,
        timeout=httpx2.Timeout(http.timeout.connect, read=None),
    )
    response = await http.send(request, stream=True)
    try:
        if response.is_error:
            await response.aread()
            if response.headers.get("content-type", "").startswith("application/json"):
                raise ApiError(request=request, response=response)
            response.raise_for_status()
        rest = b""
        async for chunk in response.aiter_bytes():
            frames, rest = split_frames(rest, chunk)
            for frame in frames:
                yield decode_event(frame)
        if rest.strip():
            yield decode_event(rest)
    finally:
        await response.aclose()


# --- the loop ---------------------------------------------------------------------------


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
    """What a reflector keeps current: its callbacks for a list and for each event."""

    async def replace(self, objects: AsyncIterator[dict[str, Any]]) -> None:
        """Replace everything with the objects of a list, streamed page by page."""

    def apply(self, event_type: str, obj: dict[str, Any]) -> None:
        """Apply one watch event (ADDED, MODIFIED, DELETED)."""

    def mark_unsynced(self) -> None:
        """The sink may be stale: a watch broke and a list is due."""


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
        max_backoff: float = MAX_BACKOFF_SECONDS,
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
        self._listed_once = asyncio.Event()
        self.synced = False
        """Listed, and no failure since: the sink is current (as of its last event)."""

    async def wait_synced(self) -> None:
        """Return once the first list was handed to the sink."""
        await self._listed_once.wait()

    async def _list(self) -> str:
        listing = self._lister()
        count = 0

        async def objects() -> AsyncIterator[dict[str, Any]]:
            nonlocal count
            async for obj in listing:
                count += 1
                yield as_dict(obj)

        await self._sink.replace(objects())
        version = listing.resourceVersion
        self.synced = True
        self._listed_once.set()
        log.info("listed", extra={"reflector": self.name, "objects": count, "version": version})
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
                with kube_errors(f"list and watch {self.name}"):
                    version = await self._list()
                    failures = 0
                    await self._watch(version)
                reason = "watch-ended"
            except ExpiredError:
                log.info("watch expired, listing again", extra={"reflector": self.name})
                self._on_restart("expired")
                continue
            except KubeError as error:
                failures += 1
                reason = f"api-error-{error.code}" if error.answered else "unreachable"
                log.warning(
                    "list/watch failed",
                    extra={"reflector": self.name, "code": error.code, "error": str(error)},
                )
            except Exception:
                failures += 1
                reason = "error"
                log.exception("list/watch crashed", extra={"reflector": self.name})
            self.synced = False
            self._sink.mark_unsynced()
            self._on_restart(reason)
            await asyncio.sleep(min(self._max_backoff, 0.5 * 2 ** min(failures, 8)))


async def _close(events: AsyncIterator[Any]) -> None:
    """Close a watch's async generator (its HTTP stream) if it has an `aclose`."""
    close = getattr(events, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


def list_and_watch(
    client: AsyncClient,
    resource: type[NamespacedResource],
    sink: Sink,
    *,
    name: str,
    namespace: str,
    server_timeout: int,
    labels: LabelSelector | None = None,
    fields: FieldSelector | None = None,
    chunk_size: int | None = None,
    on_restart: Callable[[str], None] | None = None,
) -> Reflector:
    """A reflector of one kind of object in `namespace` (or `lightkube.ALL_NS`) into `sink`.

    Each watch request lasts `server_timeout` seconds on the server's side; one silent
    for `WATCH_GRACE_SECONDS` longer is renewed. `chunk_size` pages the list.
    """
    return Reflector(
        name,
        lambda: client.list(
            resource, namespace=namespace, labels=labels, fields=fields, chunk_size=chunk_size
        ),
        lambda version: watch_events(
            client,
            resource,
            namespace=namespace,
            resource_version=version,
            server_timeout=server_timeout,
            labels=labels,
            fields=fields,
        ),
        sink,
        silence_deadline=server_timeout + WATCH_GRACE_SECONDS,
        on_restart=on_restart,
    )
