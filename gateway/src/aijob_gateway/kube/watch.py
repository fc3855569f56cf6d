"""One watch request, its events split on newlines only, as the API server frames them.

lightkube's watch reads the stream with httpx's `aiter_lines`, which splits like
`str.splitlines`: on U+0085, U+2028, U+001C and the other Unicode line breaks too.
The API server's JSON escapes control characters and U+2028/U+2029 but writes
U+0085 raw, so one AIJob with a NEL in any string (a description, an inference
input) cut its watch event in two, and the half line did not decode. Here the
stream is read as bytes and split on b"\\n" alone, the watch protocol's only frame
separator. The request itself is built by lightkube (URL, selectors, auth, TLS).

One call is one request: it ends when the server ends the watch (its
`timeoutSeconds`); the reflector renews it from the last version it saw.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from lightkube import ApiError, AsyncClient
from lightkube.models.meta_v1 import Status

Event = tuple[str, dict[str, Any]]


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
    resource: Any,
    *,
    namespace: str,
    resource_version: str,
    server_timeout: int,
    fields: dict[str, str] | None = None,
) -> AsyncIterator[Event]:
    """The events of one watch request from `resource_version`, until the server ends it."""
    # lightkube builds the request (URL, selectors, auth, TLS); only the reading is ours.
    generic = client._client
    params: dict[str, Any] = {
        "timeoutSeconds": server_timeout,
        "resourceVersion": resource_version,
    }
    if fields:  # equality selectors only (lightkube's selector builder is not typed for it)
        params["fieldSelector"] = ",".join(f"{key}={value}" for key, value in fields.items())
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
