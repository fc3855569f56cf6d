"""Who sent a report: the worker pod's projected token, checked by a TokenReview.

The review asks the API server with aijob's audience (`STATUS_AUDIENCE`) only: a token
for any other audience (the pod's default API token, another service's) is not
authenticated. For a pod-bound token the API server names the pod in the user's extra
(`authentication.kubernetes.io/pod-name`, `.../pod-uid`) and checks that the pod still
exists with that uid. Answers are cached per token (by its SHA-256) until the token's
`exp` or `cache_seconds`, whichever comes first, at most `size` of them (the oldest go);
a refusal is cached `NEGATIVE_SECONDS` so a flood of bad tokens does not become one review
each.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aijob_api.status_report import STATUS_AUDIENCE
from aijob_kube.errors import kube_errors
from lightkube import AsyncClient
from lightkube.models.authentication_v1 import TokenReviewSpec
from lightkube.resources.authentication_v1 import TokenReview

POD_NAME_EXTRA: Final = "authentication.kubernetes.io/pod-name"
POD_UID_EXTRA: Final = "authentication.kubernetes.io/pod-uid"
SERVICE_ACCOUNT_PREFIX: Final = "system:serviceaccount:"
NEGATIVE_SECONDS: Final = 10.0
MAX_TOKEN_BYTES: Final = 16 * 1024
"""A longer bearer token is refused unread (projected tokens are about 1 KiB)."""


@dataclass(frozen=True, slots=True)
class PodIdentity:
    """The pod a token was bound to."""

    namespace: str
    service_account: str
    pod_name: str
    pod_uid: str


def identity_of(status: Mapping[str, Any]) -> PodIdentity | None:
    """The pod of a TokenReview's status; None unless authenticated, for aijob's audience,
    as a ServiceAccount, bound to a pod."""
    if not status.get("authenticated"):
        return None
    if STATUS_AUDIENCE not in (status.get("audiences") or ()):
        return None
    user = status.get("user") or {}
    username = str(user.get("username") or "")
    if not username.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    namespace, _, account = username.removeprefix(SERVICE_ACCOUNT_PREFIX).partition(":")
    extra = user.get("extra") or {}
    names: list[Any] = list(extra.get(POD_NAME_EXTRA) or ())
    uids: list[Any] = list(extra.get(POD_UID_EXTRA) or ())
    if not namespace or not account or len(names) != 1 or len(uids) != 1:
        return None
    return PodIdentity(namespace, account, str(names[0]), str(uids[0]))


def token_expiry(token: str) -> float | None:
    """The `exp` of a JWT (not verified: only to bound the cache; the review verified it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


class TokenCache:
    """Reviews by token hash, each until its deadline, at most `size` (least recent out)."""

    def __init__(self, size: int, cache_seconds: float, clock: Callable[[], float]) -> None:
        self.size = size
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, PodIdentity | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def digest(token: str) -> str:
        """The cache's key of a token (the token itself is never kept)."""
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> tuple[bool, PodIdentity | None]:
        """(known, identity): known is False when the token must be reviewed."""
        key = self.digest(token)
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        deadline, identity = entry
        if self._clock() >= deadline:
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, identity

    def put(self, token: str, identity: PodIdentity | None, left: float | None) -> None:
        """Remember a review: an identity until the token expires (`left`: its seconds to
        go, if known) or `cache_seconds`, whichever comes first; a refusal briefly."""
        now = self._clock()
        if identity is None:
            deadline = now + min(NEGATIVE_SECONDS, self.cache_seconds)
        else:
            deadline = now + self.cache_seconds
            if left is not None:
                deadline = min(deadline, now + left)
        if deadline <= now:
            return
        key = self.digest(token)
        self._entries[key] = (deadline, identity)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class TokenReviewer:
    """Reviews tokens through the API server, with a `TokenCache` in front."""

    def __init__(
        self, client: AsyncClient, cache: TokenCache, wall_clock: Callable[[], float]
    ) -> None:
        self._client = client
        self.cache = cache
        self._wall_clock = wall_clock
        self.reviews = 0
        """TokenReviews sent (the rest were answered from the cache)."""

    async def identify(self, token: str) -> PodIdentity | None:
        """The pod a token is bound to, None when it is not a valid aijob token; raises
        `aijob_kube.errors.KubeError` when the API server could not answer."""
        if not token or len(token) > MAX_TOKEN_BYTES:
            return None
        known, identity = self.cache.get(token)
        if known:
            return identity
        review = TokenReview(spec=TokenReviewSpec(token=token, audiences=[STATUS_AUDIENCE]))
        self.reviews += 1
        with kube_errors("reviewing a status token"):
            answer = await self._client.create(review)
        status = (answer.to_dict() if hasattr(answer, "to_dict") else {}).get("status") or {}
        identity = identity_of(status)
        expiry = token_expiry(token)
        self.cache.put(token, identity, None if expiry is None else expiry - self._wall_clock())
        return identity
