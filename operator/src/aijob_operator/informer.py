"""List-then-watch of the Jobs and Pods the operator made, into compact views (an informer).

Why not kopf's indices: kopf makes every object's processing wait until every
indexed resource has been listed, so at start-up it holds the full body of every
Job and Pod at once (measured: 330 MB and climbing with 10,000 finished jobs). Here
each page of the initial list (500 objects) and each watch event becomes a few
hundred bytes of view at once; the bodies go.

Per namespace (or cluster-wide): list with the label selector `aijob.dev/job-name`,
replace what is known for that namespace (what was not listed was deleted), mark it
synced, then watch from the list's resourceVersion; on "410 Gone" list again; on
API and transport errors watch again from the last version seen, after a back-off;
on anything else (an event that does not decode) list again after it. Every change
of a view (not of the object: most pod updates change nothing read here) calls
`notify` with the owning AIJob's key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Final

import httpx2 as httpx
from aijob_api.constants import LABEL_JOB_NAME
from lightkube import ALL_NS, ApiError, AsyncClient
from lightkube.generic_resource import GenericNamespacedResource, create_api_info

from aijob_operator.views import ChildKey, owner_key

logger = logging.getLogger(__name__)

PAGE_SIZE: Final = 500
WATCH_SECONDS: Final = 300
"""Server-side timeout of one watch request (it is then renewed from the last version)."""
BACKOFF_SECONDS: Final = (0.5, 1, 2, 5, 10, 30)


class RawJob(GenericNamespacedResource):
    """batch/v1 Jobs as plain dicts (decoding into typed models costs a millisecond each)."""

    _api_info = create_api_info("batch", "v1", "Job", "jobs")


class RawPod(GenericNamespacedResource):
    """v1 Pods as plain dicts."""

    _api_info = create_api_info("", "v1", "Pod", "pods")


ViewOf = Callable[[Mapping[str, Any]], Hashable]


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


class ChildInformer:
    """Keeps a ChildCache in step with the cluster for one kind of child."""

    def __init__(
        self,
        client: AsyncClient,
        resource: type[GenericNamespacedResource],
        view_of: ViewOf,
        namespaces: Sequence[str],
        notify: Callable[[ChildKey], None],
    ) -> None:
        self.cache = ChildCache()
        self._client = client
        self._resource = resource
        self._view_of = view_of
        self._namespaces: list[str | None] = list(namespaces) or [None]
        self._notify = notify
        self._synced = {namespace: asyncio.Event() for namespace in self._namespaces}

    @property
    def kind(self) -> str:
        """The kind watched, for logs."""
        return self._resource._api_info.resource.kind

    async def run(self) -> None:
        """Watch every namespace, forever."""
        await asyncio.gather(*(self._run(namespace) for namespace in self._namespaces))

    async def wait_synced(self) -> None:
        """Return once every namespace was listed once."""
        await asyncio.gather(*(event.wait() for event in self._synced.values()))

    async def _run(self, namespace: str | None) -> None:
        version: str | None = None
        failures = 0
        while True:
            try:
                if version is None:
                    version = await self._relist(namespace)
                    self._synced[namespace].set()
                async for _type, obj in self._client.watch(
                    self._resource,
                    namespace=namespace or ALL_NS,
                    labels={LABEL_JOB_NAME: None},
                    resource_version=version,
                    server_timeout=WATCH_SECONDS,
                ):
                    version = self._on_event(_type, obj) or version
                    failures = 0
            except asyncio.CancelledError:
                raise
            except ApiError as error:
                if error.status.code == 410:
                    logger.info("%s watch in %s expired; listing again", self.kind, namespace)
                    version = None
                    continue
                failures += 1
                logger.warning("%s watch in %s: %s", self.kind, namespace, error.status.message)
            except (httpx.HTTPError, OSError) as error:
                failures += 1
                logger.warning("%s watch in %s: %s", self.kind, namespace, error)
            except Exception:
                # E.g. an event lightkube cannot decode: its line reader also splits on
                # U+0085, which the API server writes raw (a pod's termination message may
                # hold one). The list that follows reads the object whole.
                failures += 1
                logger.exception("%s watch in %s failed; listing again", self.kind, namespace)
                version = None
            await asyncio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1])

    async def _relist(self, namespace: str | None) -> str:
        listing = self._client.list(
            self._resource,
            namespace=namespace or ALL_NS,
            labels={LABEL_JOB_NAME: None},
            chunk_size=PAGE_SIZE,
        )
        seen: set[str] = set()
        async for obj in listing:
            body: Mapping[str, Any] = obj
            uid = str(body.get("metadata", {}).get("uid", ""))
            key = owner_key(body)
            if key is None:
                continue
            seen.add(uid)
            if self.cache.apply(uid, key, self._view_of(body)):
                self._notify(key)
        for uid in self.cache.uids_in(namespace) - seen:
            gone = self.cache.remove(uid)
            if gone is not None:
                self._notify(gone)
        return listing.resourceVersion

    def _on_event(self, event: str, obj: Mapping[str, Any]) -> str | None:
        metadata = obj.get("metadata", {})
        uid = str(metadata.get("uid", ""))
        key = owner_key(obj)
        if event == "DELETED":
            gone = self.cache.remove(uid)
            if gone is not None:
                self._notify(gone)
        elif key is not None and self.cache.apply(uid, key, self._view_of(obj)):
            self._notify(key)
        version = metadata.get("resourceVersion")
        return str(version) if version else None
