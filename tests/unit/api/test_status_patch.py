"""The one rule for writing the worker's share into a status (aijob_api.status_patch): the
worker's own writes and the operator's status server both build their patches with it."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.status_patch import (
    KEYED_PARTS,
    merge_status_parts,
    status_patch_for,
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


def test_without_a_uid_there_is_nothing_to_test() -> None:
    assert status_patch_operations({"results": {}}, uid=None) == [
        {"op": "add", "path": "/status/results", "value": {}}
    ]


def test_without_a_status_yet_it_is_added_whole_only_if_still_absent() -> None:
    expected = [
        {"op": "test", "path": "/metadata/uid", "value": UID},
        {"op": "test", "path": "/status", "value": None},
        {"op": "add", "path": "/status", "value": {"progress": {"percent": 5}}},
    ]
    parts = {"progress": {"percent": 5}}
    assert status_patch_operations(parts, uid=UID, status_exists=False) == expected
    assert status_patch_for(parts, uid=UID, status=None) == expected


def test_a_rank_entry_is_added_by_its_key_when_the_map_exists() -> None:
    assert "ranks" in KEYED_PARTS
    parts = {"progress": {"percent": 5}, "ranks": {"0": {"percent": 5}}}
    assert status_patch_for(parts, uid=UID, status={"ranks": {}}) == [
        {"op": "test", "path": "/metadata/uid", "value": UID},
        {"op": "add", "path": "/status/progress", "value": {"percent": 5}},
        {"op": "add", "path": "/status/ranks/0", "value": {"percent": 5}},
    ]


def test_a_missing_ranks_map_is_tested_absent_and_added_whole() -> None:
    parts = {"ranks": {"1": {"epoch": 2}}}
    expected = [
        {"op": "test", "path": "/status/ranks", "value": None},
        {"op": "add", "path": "/status/ranks", "value": {"1": {"epoch": 2}}},
    ]
    assert status_patch_operations(parts, uid=None, missing_maps=frozenset({"ranks"})) == expected
    assert status_patch_for(parts, uid=None, status={"phase": "Running"}) == expected
    # An empty status is a status: its missing map is added, not the whole status.
    assert status_patch_for(parts, uid=None, status={}) == expected


def test_a_key_is_one_json_pointer_segment() -> None:
    operations = status_patch_operations({"ranks": {"a/b~c": {}}}, uid=None)
    assert operations == [{"op": "add", "path": "/status/ranks/a~1b~0c", "value": {}}]


@pytest.mark.parametrize(
    "parts", [{"progress": None}, {"a/b": {}}, {"x~y": {}}, {"": {}}, {"ranks": [1]}]
)
def test_parts_that_are_not_named_objects_are_refused(parts: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="status part"):
        status_patch_operations(parts, uid=UID)
    with pytest.raises(ValueError, match="status part"):
        merge_status_parts({}, parts)


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
        (
            {"progress": {"percent": 10, "stage": "a"}, "ranks": {"0": {"percent": 1}}},
            {"progress": {"percent": 20}, "ranks": {"1": {"percent": 2}}},
            {"progress": {"percent": 20}, "ranks": {"0": {"percent": 1}, "1": {"percent": 2}}},
        ),
        ({}, {"ranks": {"0": {}}}, {"ranks": {"0": {}}}),
    ],
)
def test_merging_does_what_the_api_server_does_with_the_patch(
    target: dict[str, Any], parts: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert merge_status_parts(target, parts) == expected
