"""Data: bundled and CSV tabular sets, the text set, inference records and features."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aijob_api.models import DatasetSpec, InferenceInput

from aijob_worker.data.features import records_to_matrix
from aijob_worker.data.records import load_records
from aijob_worker.data.tabular import load_tabular
from aijob_worker.data.text import load_text, make_sentiment
from aijob_worker.errors import BadInputError


@pytest.mark.parametrize(
    ("name", "features", "classes"),
    [("iris", 4, 3), ("digits", 64, 10), ("wine", 13, 3), ("breast_cancer", 30, 2)],
)
def test_bundled_tabular_sets(name: str, features: int, classes: int) -> None:
    data = load_tabular(DatasetSpec(name=name, test_fraction=0.25), seed=1)
    assert data.n_features == features
    assert data.n_classes == classes
    total = len(data.x_train) + len(data.x_test)
    assert len(data.x_test) == round(total * 0.25)
    assert set(np.unique(data.y_test)) == set(range(classes))  # stratified


def test_csv_with_word_labels(tmp_path: Path) -> None:
    rows = ["height,weight,kind"] + [
        f"{i},{i * 2},{'big' if i > 9 else 'small'}" for i in range(20)
    ]
    (tmp_path / "data.csv").write_text("\n".join(rows))
    data = load_tabular(DatasetSpec(uri=f"file://{tmp_path}/data.csv"), seed=0)
    assert data.feature_names == ["height", "weight"]
    assert data.class_names == ["big", "small"]
    assert len(data.x_train) == 16


@pytest.mark.parametrize(
    ("content", "target", "field", "words"),
    [
        ("a,b,c\n1,2\n", None, "spec.dataset.uri", "has 2 values"),
        ("", None, "spec.dataset.uri", "empty"),
        ("a,b\n1,0\n2,0\n", None, "spec.dataset.uri", "at least two classes"),
        ("a,b\nnope,0\n2,1\n", None, "spec.dataset.uri", "not a number"),
        ("a,b\n1,0\n2,1\n", "label", "spec.dataset.targetColumn", "no column 'label'"),
    ],
)
def test_bad_csv_names_the_field(
    tmp_path: Path, content: str, target: str | None, field: str, words: str
) -> None:
    (tmp_path / "d.csv").write_text(content)
    with pytest.raises(BadInputError) as caught:
        load_tabular(DatasetSpec(uri=f"file://{tmp_path}/d.csv", target_column=target), seed=0)
    assert caught.value.field == field
    assert words in caught.value.problem


def test_missing_files_and_unknown_sets_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"spec\.dataset\.uri: cannot read"):
        load_tabular(DatasetSpec(uri=f"file://{tmp_path}/none.csv"), seed=0)
    with pytest.raises(BadInputError, match=r"spec\.dataset\.name: unknown data set 'mnist'"):
        load_tabular(DatasetSpec(name="mnist"), seed=0)


def test_sentiment_set_is_reproducible_and_balanced() -> None:
    first, labels = make_sentiment(400, seed=3)
    assert (first, labels) == make_sentiment(400, seed=3)
    assert 150 < sum(labels) < 250
    data = load_text(DatasetSpec(name="sentiment", test_fraction=0.25), seed=3)
    assert data.class_names == ["negative", "positive"]
    assert len(data.test_texts) == 200


def test_text_csv(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("text,label\ngood,pos\nbad,neg\nfine,pos\nugly,neg\n")
    data = load_text(DatasetSpec(uri=f"file://{tmp_path}/t.csv", test_fraction=0.25), seed=0)
    assert data.class_names == ["neg", "pos"]
    assert len(data.train_texts) == 3


def test_records_from_files(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_text('[1, 2]\n\n{"features": [3, 4]}\n')
    (tmp_path / "r.json").write_text(json.dumps(["a text", "another"]))
    (tmp_path / "r.csv").write_text("x,y\n1,2\n3,4\n")
    assert load_records(InferenceInput(uri=f"file://{tmp_path}/r.jsonl")) == [
        [1, 2],
        {"features": [3, 4]},
    ]
    assert load_records(InferenceInput(uri=f"file://{tmp_path}/r.json")) == ["a text", "another"]
    assert load_records(InferenceInput(uri=f"file://{tmp_path}/r.csv")) == [
        {"x": 1.0, "y": 2.0},
        {"x": 3.0, "y": 4.0},
    ]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("r.txt", "1,2", "use a .csv, .json or .jsonl file"),
        ("r.json", '{"a": 1}', "JSON list"),
        ("r.jsonl", "[1]\n{oops\n", "line 2 is not JSON"),
        ("r.jsonl", "\n", "holds no records"),
    ],
)
def test_bad_record_files(tmp_path: Path, name: str, content: str, words: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(BadInputError) as caught:
        load_records(InferenceInput(uri=f"file://{tmp_path}/{name}"))
    assert caught.value.field == "spec.input.uri"
    assert words in caught.value.problem


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ([1, 2], [1.0, 2.0]),
        ({"features": [3, 4]}, [3.0, 4.0]),
        ({"b": 6, "a": 5, "extra": "ignored"}, [5.0, 6.0]),
    ],
)
def test_record_shapes(record: Any, expected: list[float]) -> None:
    assert records_to_matrix([record], ["a", "b"]).tolist() == [expected]


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ([1, 2, 3], "has 3 values; the model was trained on 2"),
        ({"a": 1}, "missing feature(s) b"),
        ("text", "expected a list of 2 numbers"),
        ([1, "x"], "not a number"),
    ],
)
def test_bad_records_name_their_index(record: Any, words: str) -> None:
    with pytest.raises(BadInputError) as caught:
        records_to_matrix([[0, 0], record], ["a", "b"], offset=10)
    assert caught.value.field == "spec.input.records[11]"
    assert words in caught.value.problem
