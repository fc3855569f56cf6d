"""An object the models refuse though the CRD let it through: say so once, do nothing else.

AIJobs and AIEndpoints alike get phase Failed, reason InvalidSpec and the first error in
words (`spec is invalid at model.source: ...`), and one Warning Event.
"""

from __future__ import annotations

from typing import Any, Final

from aijob_api.conditions import Phase, Reason
from aijob_api.constants import KIND
from aijob_kube.resources import AIJobResource
from lightkube.generic_resource import GenericNamespacedResource
from pydantic import ValidationError

from aijob_operator.events import EventPoster, PendingEvent
from aijob_operator.kube import KubeApi
from aijob_operator.store import AIJobStore, Key

FAILED: Final = Phase.FAILED.value
"""The phase of an invalid object (the same word for AIJobs and AIEndpoints)."""
INVALID_SPEC: Final = Reason.INVALID_SPEC


def invalid_spec_message(error: ValidationError) -> str:
    """The first error in words, with where it is."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"spec is invalid at {where}: {first['msg']}"


async def report_invalid_spec(
    api: KubeApi,
    events: EventPoster,
    store: AIJobStore,
    key: Key,
    body: dict[str, Any],
    error: ValidationError,
    *,
    resource: type[GenericNamespacedResource] = AIJobResource,
    kind: str = KIND,
) -> None:
    """Write phase Failed, reason InvalidSpec and the error once; post a Warning Event."""
    status = body.get("status") or {}
    if status.get("phase") == FAILED and status.get("reason") == INVALID_SPEC:
        return
    message = invalid_spec_message(error)
    uid = body.get("metadata", {}).get("uid")
    patch = {"phase": FAILED, "reason": INVALID_SPEC, "message": message}
    result = await api.patch_status(key[0], key[1], patch, uid, resource=resource)
    if result is not None:
        store.put(result)
    events.post(PendingEvent(key[0], key[1], uid, "Warning", INVALID_SPEC, message, kind=kind))
