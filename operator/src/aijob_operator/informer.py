"""List-then-watch of the objects the operator made, into compact views (an informer).

Why not kopf's indices: kopf makes every object's processing wait until every
indexed resource has been listed, so at start-up it holds the full body of every
Job and Pod at once (measured: 330 MB and climbing with 10,000 finished jobs). Here
each page of the initial list (500 objects) and each watch event becomes a few
hundred bytes of view at once; the bodies go.

Per namespace (or cluster-wide), `aijob_kube.watch`'s loop lists with the owner's
label as selector, `aijob.dev/job-name` for an AIJob's Jobs and Pods,
`aijob.dev/endpoint` for an AIEndpoint's children (what was not listed was deleted), or
with a field selector and a function that names the owner (the Jobs' FailedCreate Events,
`refusals`),
then watches from the list's resourceVersion, renews ended or silent watches from the
last version seen, and lists again after any failure. Every change of a view (not of
the object: most pod updates change nothing read here) calls `notify` with the
owner's key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Final

from aijob_api.constants import LABEL_JOB_NAME
from aijob_kube.watch import Reflector, list_and_watch
from lightkube import ALL_NS, AsyncClient
from lightkube.core.client import FieldSelector
from lightkube.generic_resource import GenericNamespacedResource

from aijob_operator.views import ChildKey, owner_key

PAGE_SIZE: Final = 100
"""Objects per page of a list (the informers' and kopf's own). A page is held whole while
it is decoded and applied: 500 Jobs with their managedFields took about 30 MB as Python
dicts, and that peak, at a restart with 10,000 objects, stayed in the process's heap
(docs/performance.md, the operator's memory)."""
WATCH_SECONDS: Final = 300
"""Server-side timeout of one watch request (it is then renewed from the last version)."""


ViewOf = Callable[[Mapping[str, Any]], Hashable]
KeyOf = Callable[[Mapping[str, Any]], ChildKey | None]
"""The owner of an object (None: not one of ours); by default from the owner's label."""


class ChildCache:
    """Views of child objects by the AIJob they belong to (and by uid)."""

    def __init__(self) -> None:
        self._by_owner: dict[ChildKey, dict[str, Hashable]] = {}
        self._owner_of: dict[str, ChildKey] = {}

    def __len__(self) -> int:
        return len(self._owner_of)

    def get(self, key: ChildKey, default: Iterable[Hashable] = ()) -> Iterable[Hashable]:
        """The views of one AIJob's children."""
        views = self._by_owner.get(key)
        return list(views.values()) if views else default

    def apply(self, uid: str, key: ChildKey, view: Hashable) -> bool:
        """Remember a child's view; True when it differs from the one known."""
        old_key = self._owner_of.get(uid)
        if old_key is not None and old_key != key:
            self.remove(uid)
        views = self._by_owner.setdefault(key, {})
        if views.get(uid) == view:
            return False
        views[uid] = view
        self._owner_of[uid] = key
        return True

    def remove(self, uid: str) -> ChildKey | None:
        """Forget a child; return the AIJob it belonged to."""
        key = self._owner_of.pop(uid, None)
        if key is None:
            return None
        views = self._by_owner.get(key)
        if views is not None:
            views.pop(uid, None)
            if not views:
                del self._by_owner[key]
        return key

    def uids_in(self, namespace: str | None) -> set[str]:
        """Children known in a namespace (every one for None)."""
        return {
            uid for uid, key in self._owner_of.items() if namespace is None or key[0] == namespace
        }


class ChildSink:
    """The loop's sink for one namespace (or all) of a ChildCache: views in, changes notified."""

    def __init__(
        self,
        cache: ChildCache,
        namespace: str | None,
        view_of: ViewOf,
        notify: Callable[[ChildKey], None],
        owner_label: str = LABEL_JOB_NAME,
        key_of: KeyOf | None = None,
    ) -> None:
        self._cache = cache
        self._namespace = namespace
        self._view_of = view_of
        self._notify = notify
        self._key_of: KeyOf = key_of or (lambda body: owner_key(body, owner_label))

    async def replace(self, objects: AsyncIterator[dict[str, Any]]) -> None:
        """Views of a fresh list; children known here but not listed are gone."""
        seen: set[str] = set()
        async for body in objects:
            key = self._key_of(body)
            if key is None:
                continue
            uid = str(body.get("metadata", {}).get("uid", ""))
            seen.add(uid)
            if self._cache.apply(uid, key, self._view_of(body)):
                self._notify(key)
        for uid in self._cache.uids_in(self._namespace) - seen:
            gone = self._cache.remove(uid)
            if gone is not None:
                self._notify(gone)

    def apply(self, event_type: str, obj: dict[str, Any]) -> None:
        """One watch event."""
        uid = str(obj.get("metadata", {}).get("uid", ""))
        if event_type == "DELETED":
            gone = self._cache.remove(uid)
            if gone is not None:
                self._notify(gone)
            return
        key = self._key_of(obj)
        if key is not None and self._cache.apply(uid, key, self._view_of(obj)):
            self._notify(key)

    def mark_unsynced(self) -> None:
        """Views stay as they are until the list that follows corrects them."""


class ChildInformer:
    """Keeps a ChildCache in step with the cluster for one kind of child."""

    def __init__(
        self,
        client: AsyncClient,
        resource: type[GenericNamespacedResource],
        view_of: ViewOf,
        namespaces: Sequence[str],
        notify: Callable[[ChildKey], None],
        owner_label: str = LABEL_JOB_NAME,
        *,
        fields: FieldSelector | None = None,
        key_of: KeyOf | None = None,
    ) -> None:
        """Children are the objects with `owner_label`, or, given `key_of`, the objects
        `fields` (a field selector) selects, filed by `key_of`."""
        self.cache = ChildCache()
        self._resource = resource
        scopes: list[str | None] = [*namespaces] or [None]
        self._reflectors: list[Reflector] = [
            list_and_watch(
                client,
                resource,
                ChildSink(self.cache, namespace, view_of, notify, owner_label, key_of),
                name=f"{self.kind}s in {namespace or 'all namespaces'}",
                namespace=namespace or ALL_NS,
                labels=None if key_of else {owner_label: None},
                fields=fields,
                chunk_size=PAGE_SIZE,
                server_timeout=WATCH_SECONDS,
            )
            for namespace in scopes
        ]

    @property
    def kind(self) -> str:
        """The kind watched, for logs."""
        return self._resource._api_info.resource.kind

    async def run(self) -> None:
        """Watch every namespace, forever."""
        await asyncio.gather(*(reflector.run() for reflector in self._reflectors))

    async def wait_synced(self) -> None:
        """Return once every namespace was listed once."""
        await asyncio.gather(*(reflector.wait_synced() for reflector in self._reflectors))
