"""The operator's memory of AIJobs: the latest body of each, compact, and who waits on whom
(inference jobs on their training job, jobs on an endpoint on that endpoint).

Fed by the watch (kopf events) and by the operator's own status writes, whichever
is newer, so a reconcile never works from an older status than the one it wrote.
Bodies are kept as compressed compact JSON (no managedFields): about 700 bytes per
AIJob instead of about 15 kB as Python objects, which is what keeps the operator small
with 10,000 AIJobs around.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str]
"""(namespace, name) of an AIJob."""


@dataclass(frozen=True, slots=True)
class _Entry:
    resource_version: str
    body: bytes
    phase: str
    framework: str
    training_job: str | None
    endpoint: str | None


def key_of(body: Mapping[str, Any]) -> Key:
    """The (namespace, name) of an object body."""
    metadata = body.get("metadata", {})
    return (str(metadata.get("namespace", "")), str(metadata.get("name", "")))


def is_newer(candidate: str, known: str) -> bool:
    """Whether a resourceVersion is newer than another (etcd revisions; equal is not newer).

    Kubernetes calls resourceVersions opaque; every API server backed by etcd issues
    increasing integers, which is what this relies on. Non-numeric versions are
    always taken as newer, so the store never refuses an update it cannot order.
    """
    if candidate.isdigit() and known.isdigit():
        return int(candidate) > int(known)
    return candidate != known


class AIJobStore:
    """The latest known body of each AIJob, and the reverse index of training jobs."""

    def __init__(self) -> None:
        self._entries: dict[Key, _Entry] = {}
        self._dependents: dict[Key, set[str]] = {}
        self._endpoint_users: dict[Key, set[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def keys(self) -> Iterator[Key]:
        """Every known AIJob."""
        return iter(list(self._entries))

    def put(self, body: Mapping[str, Any]) -> bool:
        """Remember a body unless a newer one is known; return whether it was taken."""
        key = key_of(body)
        metadata = body.get("metadata", {})
        version = str(metadata.get("resourceVersion", ""))
        old = self._entries.get(key)
        if old is not None and version and not is_newer(version, old.resource_version):
            return False
        spec = body.get("spec", {}) or {}
        status = body.get("status", {}) or {}
        source = (spec.get("model") or {}).get("source") or {}
        training = source.get("trainingJob")
        slim = {
            **body,
            "metadata": {k: v for k, v in metadata.items() if k != "managedFields"},
        }
        entry = _Entry(
            resource_version=version,
            body=zlib.compress(json.dumps(slim, separators=(",", ":")).encode(), 1),
            phase=str(status.get("phase") or ""),
            framework=str(status.get("framework") or spec.get("framework") or ""),
            training_job=str(training) if training else None,
            endpoint=str(spec["endpoint"]) if spec.get("endpoint") else None,
        )
        if old is not None and old.training_job and old.training_job != entry.training_job:
            self._unlink(self._dependents, key, old.training_job)
        if old is not None and old.endpoint and old.endpoint != entry.endpoint:
            self._unlink(self._endpoint_users, key, old.endpoint)
        if entry.training_job:
            self._dependents.setdefault((key[0], entry.training_job), set()).add(key[1])
        if entry.endpoint:
            self._endpoint_users.setdefault((key[0], entry.endpoint), set()).add(key[1])
        self._entries[key] = entry
        return True

    def remove(self, key: Key) -> None:
        """Forget an AIJob (it was deleted)."""
        old = self._entries.pop(key, None)
        if old is not None and old.training_job:
            self._unlink(self._dependents, key, old.training_job)
        if old is not None and old.endpoint:
            self._unlink(self._endpoint_users, key, old.endpoint)

    def resource_version(self, key: Key) -> str | None:
        """The resourceVersion of an AIJob's latest body (without decoding it), or None."""
        entry = self._entries.get(key)
        return entry.resource_version if entry is not None else None

    def get(self, key: Key) -> dict[str, Any] | None:
        """The latest body of an AIJob, or None."""
        entry = self._entries.get(key)
        return json.loads(zlib.decompress(entry.body)) if entry is not None else None

    def dependents(self, key: Key) -> list[Key]:
        """AIJobs whose model comes from the training AIJob `key`."""
        namespace = key[0]
        return [(namespace, name) for name in sorted(self._dependents.get(key, ()))]

    def endpoint_users(self, endpoint: Key) -> list[Key]:
        """AIJobs that name the AIEndpoint `endpoint` (namespace, name) in `spec.endpoint`."""
        namespace = endpoint[0]
        return [(namespace, name) for name in sorted(self._endpoint_users.get(endpoint, ()))]

    def phase_counts(self) -> Counter[tuple[str, str]]:
        """How many AIJobs are in each (phase, framework).

        Called from the metrics server's thread while the event loop changes the store: the
        entries are copied first (one C-level step under the GIL), never iterated live."""
        entries = list(self._entries.values())
        return Counter((entry.phase or "New", entry.framework) for entry in entries)

    @staticmethod
    def _unlink(index: dict[Key, set[str]], key: Key, target: str) -> None:
        names = index.get((key[0], target))
        if names is not None:
            names.discard(key[1])
            if not names:
                del index[(key[0], target)]


EndpointStore = AIJobStore
"""AIEndpoints are kept the same way: latest bodies, and the reverse index of the training
job each one serves (`spec.model.source.trainingJob`, the same path as an AIJob's)."""
