"""The one rule for the formats a data set may be in (gateway at submission, worker at start)."""

from __future__ import annotations

import pytest
from aijob_api.inputs import DataFormat, data_format_of, dataset_uri_problem


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("train.csv", DataFormat.CSV),
        ("part-0.parquet", DataFormat.PARQUET),
        ("x/y/part-0.PQ", DataFormat.PARQUET),
        ("rows.jsonl", DataFormat.JSONL),
        ("rows.ndjson", DataFormat.JSONL),
        ("train.csv.gz", None),
        ("train", None),
        ("csv", None),
        ("data.xlsx", None),
    ],
)
def test_the_extension_tells_the_format(name: str, expected: DataFormat | None) -> None:
    assert data_format_of(name) == expected


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("s3://aijob-a/data/train.parquet", True),
        ("file:///var/lib/aijob/artifacts/a/train.jsonl", True),
        ("s3://aijob-a/data/shards/", True),
        ("s3://aijob-a/data/train.xlsx", False),
        ("s3://aijob-a/data/shards", False),
        ("file:///var/lib/aijob/artifacts/a/manifest.json", False),
    ],
)
def test_dataset_uri_problem(uri: str, accepted: bool) -> None:
    problem = dataset_uri_problem(uri)
    if accepted:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith(f"{uri!r}: not a data format the workers read")
        assert ".csv, .parquet, .pq, .jsonl, .ndjson" in problem
