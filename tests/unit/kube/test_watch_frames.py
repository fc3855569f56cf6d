"""Watch frames: split on newlines only, so a NEL or U+2028 inside a string stays in its event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aijob_kube.watch import decode_event, split_frames
from lightkube import ApiError


def frame(event_type: str, obj: dict[str, Any]) -> bytes:
    # ensure_ascii=False writes U+0085 raw, as the API server's JSON encoder does.
    return json.dumps({"type": event_type, "object": obj}, ensure_ascii=False).encode() + b"\n"


def test_a_nel_inside_a_string_does_not_split_the_event() -> None:
    body = {"metadata": {"name": "a"}, "spec": {"description": "one\u0085two\u2028three\x1c"}}
    stream = frame("ADDED", body) + frame("DELETED", {"metadata": {"name": "b"}})
    # Delivered in two arbitrary chunks, the cut in the middle of the first event.
    first, rest = split_frames(b"", stream[:20])
    assert first == []
    frames, rest = split_frames(rest, stream[20:])
    assert rest == b""
    assert [decode_event(item) for item in frames] == [
        ("ADDED", body),
        ("DELETED", {"metadata": {"name": "b"}}),
    ]


def test_an_error_event_is_raised_with_its_status() -> None:
    gone = {"kind": "Status", "apiVersion": "v1", "code": 410, "reason": "Expired"}
    with pytest.raises(ApiError) as raised:
        decode_event(frame("ERROR", gone).strip())
    assert raised.value.status.code == 410
