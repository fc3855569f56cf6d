"""Status writes: the JSON patch that tests the UID, replacing parts, classifying failures."""

from __future__ import annotations

from typing import Any

import pytest
from lightkube import ApiError
from lightkube.models.meta_v1 import Status, StatusCause, StatusDetails

from aijob_worker.status import (
    classify_api_error,
    patch_did_not_apply,
    replace_parts,
    status_patch_operations,
)

UID = "0b7c6f0e-6a56-4b8e-9d1c-2f3e4a5b6c7d"


def test_a_write_tests_the_uid_first_and_replaces_each_part() -> None:
    operations = status_patch_operations(
        {"progress": {"percent": 5}, "checkpoint": {"uri": "file:///c"}}, uid=UID
    )
    assert operations == [
        {"op": "test", "path": "/metadata/uid", "value": UID},
        {"op": "add", "path": "/status/progress", "value": {"percent": 5}},
        {"op": "add", "path": "/status/checkpoint", "value": {"uri": "file:///c"}},
    ]


def test_without_a_status_yet_it_is_added_whole_only_if_still_absent() -> None:
    operations = status_patch_operations({"progress": {"percent": 5}}, uid=UID, status_exists=False)
    assert operations == [
        {"op": "test", "path": "/metadata/uid", "value": UID},
        {"op": "test", "path": "/status", "value": None},
        {"op": "add", "path": "/status", "value": {"progress": {"percent": 5}}},
    ]


def test_without_a_uid_there_is_nothing_to_test() -> None:
    assert status_patch_operations({"results": {}}, uid=None) == [
        {"op": "add", "path": "/status/results", "value": {}}
    ]


@pytest.mark.parametrize("parts", [{"progress": None}, {"a/b": {}}, {"x~y": {}}])
def test_parts_that_are_not_plain_objects_are_refused(parts: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="a write replaces named parts"):
        status_patch_operations(parts, uid=UID)


@pytest.mark.parametrize(
    ("target", "parts", "expected"),
    [
        (
            {"phase": "Running"},
            {"progress": {"percent": 1}},
            {"phase": "Running", "progress": {"percent": 1}},
        ),
        (
            {"progress": {"percent": 1, "etaSeconds": 9.0, "metrics": {"old": 1.0}}},
            {"progress": {"percent": 2}},
            {"progress": {"percent": 2}},
        ),
        ({}, {"results": {"metrics": {}}}, {"results": {"metrics": {}}}),
    ],
)
def test_replace_parts_does_what_the_api_server_does_with_the_patch(
    target: dict[str, Any], parts: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert replace_parts(target, parts) == expected


def api_error(code: int, message: str, details: StatusDetails | None = None) -> ApiError:
    return ApiError(status=Status(code=code, reason="Reason", message=message, details=details))


@pytest.mark.parametrize(
    ("code", "retryable", "permanent"),
    [
        (400, False, False),
        (403, False, False),
        (413, False, False),
        (422, False, False),
        (404, False, True),
        (409, False, True),
        (410, False, True),
        (401, True, False),
        (429, True, False),
        (500, True, False),
        (503, True, False),
    ],
)
def test_failures_are_classified(code: int, retryable: bool, permanent: bool) -> None:
    error = classify_api_error(api_error(code, "the API server's words"))
    assert (error.retryable, error.permanent, error.code) == (retryable, permanent, code)
    assert error.refused == (not retryable and not permanent)
    assert "the API server's words" in str(error)


def test_a_patch_that_did_not_apply_is_told_from_an_invalid_status() -> None:
    bare = api_error(422, "the server rejected our request due to an error in our request")
    invalid = api_error(
        422,
        'AIJob.aijob.dev "p" is invalid: status.progress.percent: Invalid value: 500',
        StatusDetails(
            name="p",
            causes=[StatusCause(field="status.progress.percent", message="Invalid value: 500")],
        ),
    )
    assert patch_did_not_apply(bare)
    assert patch_did_not_apply(api_error(422, "x", StatusDetails()))
    assert not patch_did_not_apply(invalid)
    assert not patch_did_not_apply(api_error(400, "bad"))
