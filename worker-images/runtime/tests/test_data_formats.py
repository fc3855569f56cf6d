"""Data sets as Parquet, JSON lines or a directory of shards, read like a CSV (local paths)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aijob_api.models import DatasetSpec

from aijob_worker.data.sources import read_dataset
from aijob_worker.data.tabular import load_tabular
from aijob_worker.data.text import load_text
from aijob_worker.errors import BadInputError

FIELD = "spec.dataset.uri"
ROWS = [
    {"width": float(index % 7), "height": float(index % 5), "kind": "big" if index % 2 else "small"}
    for index in range(20)
]


def _parquet(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _jsonl(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _csv(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(rows[0])] + [",".join(str(value) for value in row.values()) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "write",
    [
        lambda d: _csv(d / "data.csv", ROWS),
        lambda d: _parquet(d / "data.parquet", ROWS),
        lambda d: _jsonl(d / "data.jsonl", ROWS),
        lambda d: _jsonl(d / "data.NDJSON", ROWS),
    ],
)
def test_every_format_gives_the_same_tabular_data(
    tmp_path: Path, write: Callable[[Path], Path]
) -> None:
    path = write(tmp_path)
    data = load_tabular(DatasetSpec(uri=f"file://{path}", test_fraction=0.25), seed=0)
    assert data.feature_names == ["width", "height"]
    assert data.class_names == ["big", "small"]
    assert len(data.y_train) + len(data.y_test) == 20
    features = np.concatenate([data.x_train, data.x_test])
    assert sorted(features[:, 0].tolist()) == sorted(row["width"] for row in ROWS)


def test_parquet_keeps_integer_labels_and_a_named_target(tmp_path: Path) -> None:
    rows = [{"label": index % 3, "x": index * 0.5, "y": -index} for index in range(12)]
    path = _parquet(tmp_path / "ints.pq", rows)
    data = load_tabular(DatasetSpec(uri=f"file://{path}", target_column="label"), seed=0)
    assert data.feature_names == ["x", "y"]
    assert data.class_names == ["0", "1", "2"]


def test_a_directory_of_shards_is_read_in_sorted_order(tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    _parquet(shards / "part-10.parquet", ROWS[10:])
    _parquet(shards / "part-00.parquet", ROWS[:10])
    (shards / "_SUCCESS").write_text("")
    table = read_dataset(f"file://{shards}/", field=FIELD)
    assert table.header == ["width", "height", "kind"]
    assert [row[2] for row in table.rows] == [str(row["kind"]) for row in ROWS]
    data = load_tabular(DatasetSpec(uri=f"file://{shards}/"), seed=0)
    assert len(data.y_train) + len(data.y_test) == 20


def test_text_data_from_json_lines(tmp_path: Path) -> None:
    rows = [{"text": word, "label": label} for word, label in [("good", "pos"), ("bad", "neg")] * 2]
    path = _jsonl(tmp_path / "t.jsonl", rows)
    data = load_text(DatasetSpec(uri=f"file://{path}", test_fraction=0.25), seed=0)
    assert data.class_names == ["neg", "pos"]
    assert sorted(data.train_texts + data.test_texts) == ["bad", "bad", "good", "good"]


def _not_parquet(d: Path) -> str:
    (d / "fake.parquet").write_text("width,height,kind\n1,2,big\n")
    return f"file://{d}/fake.parquet"


def _not_jsonl(d: Path) -> str:
    (d / "fake.jsonl").write_text('{"a": 1}\nwidth,height\n')
    return f"file://{d}/fake.jsonl"


def _jsonl_of_lists(d: Path) -> str:
    (d / "lists.jsonl").write_text("[1, 2]\n[3, 4]\n")
    return f"file://{d}/lists.jsonl"


def _jsonl_other_keys(d: Path) -> str:
    _jsonl(d / "keys.jsonl", [{"a": 1, "b": 0}, {"a": 2, "c": 1}])
    return f"file://{d}/keys.jsonl"


def _empty_directory(d: Path) -> str:
    (d / "empty").mkdir()
    (d / "empty" / "_SUCCESS").write_text("")
    return f"file://{d}/empty/"


def _mixed_directory(d: Path) -> str:
    _parquet(d / "mixed" / "a.parquet", ROWS[:10])
    _csv(d / "mixed" / "b.csv", ROWS[10:])
    return f"file://{d}/mixed/"


def _unknown_shard(d: Path) -> str:
    _csv(d / "odd" / "a.csv", ROWS)
    (d / "odd" / "notes.txt").write_text("hello")
    return f"file://{d}/odd/"


def _shards_with_other_columns(d: Path) -> str:
    _parquet(d / "cols" / "a.parquet", ROWS[:10])
    _parquet(d / "cols" / "b.parquet", [{"width": 1.0, "kind": "big"}])
    return f"file://{d}/cols/"


def _missing_directory(d: Path) -> str:
    return f"file://{d}/nowhere/"


def _unsupported_extension(d: Path) -> str:
    (d / "data.xlsx").write_text("x")
    return f"file://{d}/data.xlsx"


def _empty_parquet(d: Path) -> str:
    pq.write_table(pa.table({"x": pa.array([], pa.float64())}), d / "none.parquet")
    return f"file://{d}/none.parquet"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_not_parquet, "fake.parquet is not a readable Parquet file"),
        (_not_jsonl, "fake.jsonl line 2 is not JSON"),
        (_jsonl_of_lists, "lists.jsonl line 1 is not a JSON object"),
        (_jsonl_other_keys, "keys.jsonl line 2 has keys a, c; the first line a, b"),
        (_empty_directory, "is an empty directory"),
        (_mixed_directory, "mixes formats (csv, parquet)"),
        (_unknown_shard, "notes.txt is in no data format"),
        (_shards_with_other_columns, "shard b.parquet has columns width, kind"),
        (_missing_directory, "no such directory"),
        (_unsupported_extension, "not a data format the workers read"),
        (_empty_parquet, "none.parquet has columns but no rows"),
    ],
)
def test_bad_data_is_bad_input_on_the_uri(
    tmp_path: Path, make: Callable[[Path], str], words: str
) -> None:
    uri = make(tmp_path)
    with pytest.raises(BadInputError) as error:
        load_tabular(DatasetSpec(uri=uri), seed=0)
    assert error.value.field == FIELD
    assert words in error.value.problem


def test_a_missing_label_column_names_the_target_field(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "d.parquet", ROWS)
    with pytest.raises(BadInputError) as error:
        load_tabular(DatasetSpec(uri=f"file://{path}", target_column="label"), seed=0)
    assert error.value.field == "spec.dataset.targetColumn"
    assert "no column 'label'; columns are width, height, kind" in error.value.problem


def test_a_missing_value_in_parquet_is_not_a_number(tmp_path: Path) -> None:
    rows = [{"x": None if index == 3 else 1.0, "y": index % 2} for index in range(6)]
    path = _parquet(tmp_path / "gaps.parquet", rows)
    with pytest.raises(BadInputError, match=r"row 4, column 'x': '' is not a number"):
        load_tabular(DatasetSpec(uri=f"file://{path}"), seed=0)
