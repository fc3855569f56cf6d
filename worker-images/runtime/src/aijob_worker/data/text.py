"""Text classification data: a small sentiment set made here, or a CSV of text and labels.

No data set can be downloaded at run time, so the bundled `sentiment` set is
generated from word lists with the job's seed: short reviews whose label
follows from the opinion words in them (with negations that flip it), so a
model has to learn words and their order rather than a constant. A data file (CSV,
Parquet, JSON lines or a directory of shards, see `sources`) needs a
`text` column and a label column (`dataset.targetColumn`, by default `label`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from aijob_api.models import DatasetSpec

from aijob_worker.data.sources import read_dataset
from aijob_worker.errors import BadInputError

BUNDLED_TEXT = ("sentiment",)
SENTIMENT_SIZE = 800

_SUBJECTS = (
    "the movie",
    "this phone",
    "the service",
    "the food",
    "our stay",
    "the book",
    "the app",
    "the concert",
    "this laptop",
    "the staff",
    "the hotel",
    "the game",
)
_POSITIVE = (
    "great",
    "excellent",
    "wonderful",
    "delightful",
    "superb",
    "fantastic",
    "lovely",
    "brilliant",
    "enjoyable",
    "amazing",
    "pleasant",
    "perfect",
)
_NEGATIVE = (
    "terrible",
    "awful",
    "boring",
    "horrible",
    "disappointing",
    "poor",
    "dreadful",
    "annoying",
    "broken",
    "useless",
    "bland",
    "painful",
)
_FILLER = (
    "honestly",
    "i think",
    "to be fair",
    "overall",
    "in the end",
    "as expected",
    "for the price",
    "again",
    "today",
    "this week",
)


@dataclass(frozen=True)
class TextData:
    """Texts and integer labels, split into training and held-out parts."""

    train_texts: list[str]
    train_labels: list[int]
    test_texts: list[str]
    test_labels: list[int]
    class_names: list[str]


def make_sentiment(size: int, seed: int) -> tuple[list[str], list[int]]:
    """Generate labelled reviews: 1 for positive, 0 for negative."""
    rng = random.Random(seed)  # noqa: S311 - data generation, not cryptography
    texts: list[str] = []
    labels: list[int] = []
    for _ in range(size):
        positive = rng.random() < 0.5
        negated = rng.random() < 0.25
        words = _POSITIVE if positive != negated else _NEGATIVE
        opinion = rng.choice(words)
        second = rng.choice(words)
        subject = rng.choice(_SUBJECTS)
        verb = "was not" if negated else "was"
        parts = [rng.choice(_FILLER), subject, verb, opinion, "and", second]
        if rng.random() < 0.5:
            parts = [subject, verb, opinion, "and", second, rng.choice(_FILLER)]
        texts.append(" ".join(parts))
        labels.append(1 if positive else 0)
    return texts, labels


def load_text(dataset: DatasetSpec, *, seed: int) -> TextData:
    """Load and split a text data set."""
    if dataset.name is not None:
        if dataset.name not in BUNDLED_TEXT:
            raise BadInputError(
                "spec.dataset.name",
                f"unknown text data set {dataset.name!r}; bundled text sets: "
                f"{', '.join(BUNDLED_TEXT)} (or a CSV with text and label columns)",
            )
        texts, labels = make_sentiment(SENTIMENT_SIZE, seed)
        class_names = ["negative", "positive"]
    else:
        assert dataset.uri is not None  # the spec guarantees exactly one of name or uri
        texts, labels, class_names = _load_csv(dataset.uri, dataset.target_column or "label")
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)  # noqa: S311 - a reproducible split
    n_test = max(1, round(len(order) * dataset.test_fraction))
    if n_test >= len(order):
        raise BadInputError("spec.dataset.testFraction", "leaves no rows to train on")
    test, train = order[:n_test], order[n_test:]
    return TextData(
        train_texts=[texts[index] for index in train],
        train_labels=[labels[index] for index in train],
        test_texts=[texts[index] for index in test],
        test_labels=[labels[index] for index in test],
        class_names=class_names,
    )


def _load_csv(uri: str, label_column: str) -> tuple[list[str], list[int], list[str]]:
    field = "spec.dataset.uri"
    table = read_dataset(uri, field=field)
    text_index = table.column("text", field=field)
    label_index = table.column(label_column, field="spec.dataset.targetColumn")
    raw_labels = [row[label_index].strip() for row in table.rows]
    class_names = sorted(set(raw_labels))
    if len(class_names) < 2:
        raise BadInputError(field, "the label column needs at least two classes")
    index_of = {name: index for index, name in enumerate(class_names)}
    texts = [row[text_index] for row in table.rows]
    return texts, [index_of[label] for label in raw_labels], class_names
