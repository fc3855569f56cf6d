"""Inference input: inline records from the spec, or a CSV / JSON / JSON-lines file.

A record is whatever the runner understands: a list of feature values, an
object of named features (or `{"features": [...]}`, `{"text": "..."}`), or a
plain string for text models. CSV rows become objects keyed by the header.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from aijob_api.models import InferenceInput

from aijob_worker.data.csvfile import read_csv
from aijob_worker.data.fetch import fetch_to
from aijob_worker.data.jsonlines import parse_json_lines
from aijob_worker.errors import BadInputError

INPUT_URI_FIELD = "spec.input.uri"


def load_records(spec_input: InferenceInput) -> list[Any]:
    """The records to run the model on."""
    if spec_input.records is not None:
        if not spec_input.records:
            raise BadInputError("spec.input.records", "is empty")
        return list(spec_input.records)
    assert spec_input.uri is not None  # the spec guarantees exactly one of records or uri
    with tempfile.TemporaryDirectory(prefix="aijob-input-") as directory:
        path = fetch_to(spec_input.uri, Path(directory), field=INPUT_URI_FIELD)
        records = _read(path)
    if not records:
        raise BadInputError(INPUT_URI_FIELD, f"{spec_input.uri} holds no records")
    return records


def _read(path: Path) -> list[Any]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = read_csv(path, field=INPUT_URI_FIELD)
        return [
            {name: _maybe_number(value) for name, value in zip(table.header, row, strict=True)}
            for row in table.rows
        ]
    if suffix in (".jsonl", ".ndjson"):
        return [value for _, value in parse_json_lines(path, field=INPUT_URI_FIELD)]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(INPUT_URI_FIELD, f"cannot read {path.name}: {error}") from error
    if suffix == ".json":
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as error:
            raise BadInputError(INPUT_URI_FIELD, f"{path.name} is not JSON: {error}") from error
        if not isinstance(loaded, list):
            raise BadInputError(INPUT_URI_FIELD, f"{path.name} must hold a JSON list of records")
        return loaded
    raise BadInputError(INPUT_URI_FIELD, f"{path.name}: use a .csv, .json or .jsonl file")


def _maybe_number(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value
