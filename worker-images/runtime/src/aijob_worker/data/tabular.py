"""Tabular classification data: scikit-learn's bundled data sets or a data file.

Bundled: iris, digits (8x8 images, so convolutional models can use them), wine,
breast_cancer. A file (CSV, Parquet, JSON lines, or a directory of shards: see
`sources`) needs named, numeric feature columns and a label column
(`dataset.targetColumn`, by default the last one); labels may be words.
The held-out share (`dataset.testFraction`) is split off stratified by class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from aijob_api.models import DatasetSpec
from numpy.typing import NDArray

from aijob_worker.data.csvfile import parse_number
from aijob_worker.data.sources import read_dataset
from aijob_worker.errors import BadInputError

DATASET_NAME_FIELD = "spec.dataset.name"
DATASET_URI_FIELD = "spec.dataset.uri"


@dataclass(frozen=True)
class TabularData:
    """Features and integer class labels, split into training and held-out parts."""

    x_train: NDArray[np.float32]
    x_test: NDArray[np.float32]
    y_train: NDArray[np.int64]
    y_test: NDArray[np.int64]
    feature_names: list[str]
    class_names: list[str]
    image_shape: tuple[int, int] | None = None
    """Height and width when each row is an image (digits), for convolutional models."""

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)


def _bundled_loaders() -> dict[str, Callable[[], Any]]:
    from sklearn import datasets

    return {
        "iris": datasets.load_iris,
        "digits": datasets.load_digits,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
    }


BUNDLED_TABULAR = ("iris", "digits", "wine", "breast_cancer")


def load_tabular(dataset: DatasetSpec, *, seed: int) -> TabularData:
    """Load and split a tabular data set."""
    if dataset.name is not None:
        features, labels, feature_names, class_names, shape = _load_bundled(dataset.name)
    else:
        assert dataset.uri is not None  # the spec guarantees exactly one of name or uri
        features, labels, feature_names, class_names = _load_csv(dataset.uri, dataset.target_column)
        shape = None
    return split(features, labels, feature_names, class_names, dataset.test_fraction, seed, shape)


def split(
    features: NDArray[np.float32],
    labels: NDArray[np.int64],
    feature_names: list[str],
    class_names: list[str],
    test_fraction: float,
    seed: int,
    image_shape: tuple[int, int] | None = None,
) -> TabularData:
    """Hold out `test_fraction` of the rows, stratified when every class has two rows."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(labels)
    stratify = labels if counts[counts > 0].min() >= 2 else None
    n_test = max(1, round(len(labels) * test_fraction))
    if n_test >= len(labels):
        raise BadInputError("spec.dataset.testFraction", "leaves no rows to train on")
    if stratify is not None and n_test < len(class_names):
        stratify = None
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=n_test, random_state=seed, stratify=stratify
    )
    return TabularData(
        x_train=np.asarray(x_train, dtype=np.float32),
        x_test=np.asarray(x_test, dtype=np.float32),
        y_train=np.asarray(y_train, dtype=np.int64),
        y_test=np.asarray(y_test, dtype=np.int64),
        feature_names=feature_names,
        class_names=class_names,
        image_shape=image_shape,
    )


def _load_bundled(
    name: str,
) -> tuple[NDArray[np.float32], NDArray[np.int64], list[str], list[str], tuple[int, int] | None]:
    loaders = _bundled_loaders()
    if name not in loaders:
        raise BadInputError(
            DATASET_NAME_FIELD,
            f"unknown data set {name!r}; bundled tabular sets: {', '.join(BUNDLED_TABULAR)}",
        )
    bunch = loaders[name]()
    features = np.asarray(bunch.data, dtype=np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    class_names = [str(item) for item in bunch.target_names]
    feature_names = [str(item) for item in getattr(bunch, "feature_names", [])] or [
        f"x{index}" for index in range(features.shape[1])
    ]
    shape = (8, 8) if name == "digits" else None
    return features, labels, feature_names, class_names, shape


def _load_csv(
    uri: str, target_column: str | None
) -> tuple[NDArray[np.float32], NDArray[np.int64], list[str], list[str]]:
    table = read_dataset(uri, field=DATASET_URI_FIELD)
    target = (
        table.column(target_column, field="spec.dataset.targetColumn")
        if target_column
        else len(table.header) - 1
    )
    feature_indexes = [index for index in range(len(table.header)) if index != target]
    if not feature_indexes:
        raise BadInputError(DATASET_URI_FIELD, "the data has a label column but no features")
    features = np.empty((len(table.rows), len(feature_indexes)), dtype=np.float32)
    for row_number, row in enumerate(table.rows):
        for column_number, index in enumerate(feature_indexes):
            features[row_number, column_number] = parse_number(
                row[index],
                field=DATASET_URI_FIELD,
                where=f"row {row_number + 1}, column {table.header[index]!r}",
            )
    raw_labels = [row[target].strip() for row in table.rows]
    class_names = sorted(set(raw_labels), key=_label_sort_key)
    if len(class_names) < 2:
        raise BadInputError(DATASET_URI_FIELD, "the label column needs at least two classes")
    index_of = {name: index for index, name in enumerate(class_names)}
    labels = np.asarray([index_of[label] for label in raw_labels], dtype=np.int64)
    return features, labels, [table.header[index] for index in feature_indexes], class_names


def _label_sort_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
