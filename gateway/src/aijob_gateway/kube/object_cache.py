"""A watch-backed, in-memory cache of one kind of aijob object, indexed by namespace first.

It is the sink a reflector (`aijob_kube.watch`) keeps current: a list replaces its
whole content, each watch event changes one object. Every read names a namespace,
the namespace of the caller's API key, and there is no read across namespaces, so
the cache cannot hand one tenant another tenant's object. Objects that do not parse
with the shared models are left out (and counted) rather than served half-understood.
The job cache and the endpoint cache are this class with their model.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from aijob_api.metadata import ObjectMeta
from pydantic import ValidationError

log = logging.getLogger(__name__)

_EPOCH = datetime.min.replace(tzinfo=UTC)


class _Cached(Protocol):
    """What the cache reads of an object: its metadata."""

    @property
    def metadata(self) -> ObjectMeta:
        """The object's metadata."""
        ...


ObjectT = TypeVar("ObjectT", bound=_Cached)


def newest_first_key(obj: _Cached) -> tuple[float, str]:
    """Sort key of the listing order: newest first, then by name."""
    created = obj.metadata.creation_timestamp or _EPOCH
    return (-created.timestamp(), obj.metadata.name or "")


def _version(obj: _Cached) -> int | None:
    value = obj.metadata.resource_version
    return int(value) if value and value.isdigit() else None


class ObjectCache(Generic[ObjectT]):
    """Objects of one model by namespace and name, kept current by a reflector."""

    def __init__(
        self,
        parse: Callable[[dict[str, Any]], ObjectT],
        kind: str,
        on_invalid: Callable[[], None] | None = None,
    ) -> None:
        self._parse_object = parse
        self._kind = kind
        self._objects: dict[str, dict[str, ObjectT]] = {}
        self._sorted: dict[str, list[ObjectT]] = {}
        self._on_invalid = on_invalid or (lambda: None)
        self.synced = False

    # The reflector's side.
    async def replace(self, objects: AsyncIterator[dict[str, Any]]) -> None:
        """Replace the whole content with a fresh list."""
        fresh: dict[str, dict[str, ObjectT]] = {}
        async for obj in objects:
            parsed = self._parse(obj)
            if parsed is not None:
                metadata = parsed.metadata
                fresh.setdefault(metadata.namespace or "", {})[metadata.name or ""] = parsed
        self._objects = fresh
        self._sorted = {}
        self.synced = True

    def apply(self, event_type: str, obj: dict[str, Any]) -> None:
        """Apply one watch event."""
        metadata = obj.get("metadata") or {}
        namespace, name = metadata.get("namespace", ""), metadata.get("name", "")
        if event_type == "DELETED":
            self.remove(namespace, name)
            return
        parsed = self._parse(obj)
        if parsed is None:
            self.remove(namespace, name)
            return
        self._store(parsed)

    def mark_unsynced(self) -> None:
        """The watch broke; reads may be stale until the next list."""
        self.synced = False

    # The gateway's own writes (read-your-writes).
    def upsert_if_newer(self, obj: ObjectT) -> None:
        """Store an object the gateway just wrote, unless the cache already has a newer one."""
        metadata = obj.metadata
        current = self.get(metadata.namespace or "", metadata.name or "")
        if current is not None:
            new, old = _version(obj), _version(current)
            if new is None or old is None or new <= old:
                return
        self._store(obj)

    def remove(self, namespace: str, name: str) -> None:
        """Forget one object (a DELETED event, or the gateway's own delete)."""
        objects = self._objects.get(namespace)
        if objects is not None and objects.pop(name, None) is not None:
            self._sorted.pop(namespace, None)
            if not objects:
                del self._objects[namespace]

    # Reads: always within one namespace.
    def get(self, namespace: str, name: str) -> ObjectT | None:
        """One object of `namespace`, or None."""
        return self._objects.get(namespace, {}).get(name)

    def list(self, namespace: str) -> list[ObjectT]:
        """Every object of `namespace`, newest first (a snapshot: later changes do not alter it)."""
        snapshot = self._sorted.get(namespace)
        if snapshot is None:
            snapshot = sorted(self._objects.get(namespace, {}).values(), key=newest_first_key)
            self._sorted[namespace] = snapshot
        return snapshot

    def size(self) -> int:
        """Number of cached objects over all namespaces (for metrics only)."""
        return sum(len(objects) for objects in self._objects.values())

    def _store(self, obj: ObjectT) -> None:
        metadata = obj.metadata
        namespace = metadata.namespace or ""
        self._objects.setdefault(namespace, {})[metadata.name or ""] = obj
        self._sorted.pop(namespace, None)

    def _parse(self, obj: dict[str, Any]) -> ObjectT | None:
        try:
            return self._parse_object(obj)
        except ValidationError as error:
            metadata = obj.get("metadata") or {}
            log.warning(
                "%s does not match the models; not served",
                self._kind,
                extra={
                    "namespace": metadata.get("namespace"),
                    "object": metadata.get("name"),
                    "error": str(error).splitlines()[0],
                },
            )
            self._on_invalid()
            return None
