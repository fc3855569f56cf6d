"""JSON lines (`.jsonl`, `.ndjson`): one JSON value per line, blank lines skipped."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aijob_worker.data.table import Table, cell_text
from aijob_worker.errors import BadInputError


def parse_json_lines(path: Path, *, field: str) -> list[tuple[int, Any]]:
    """(line number, value) of each non-blank line; a line that is not JSON is bad input."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(field, f"cannot read {path.name}: {error}") from error
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise BadInputError(field, f"{path.name} line {number} is not JSON: {error}") from error
    return values


def read_jsonl(path: Path, *, field: str) -> Table:
    """A table from JSON lines of objects, all with the first line's keys (its column order)."""
    lines = parse_json_lines(path, field=field)
    if not lines:
        raise BadInputError(field, f"{path.name} holds no JSON lines")
    header: list[str] = []
    rows = []
    for number, value in lines:
        if not isinstance(value, Mapping):
            raise BadInputError(field, f"{path.name} line {number} is not a JSON object")
        if not header:
            header = [str(key) for key in value]
        elif set(value) != set(header):
            raise BadInputError(
                field,
                f"{path.name} line {number} has keys {', '.join(map(str, value))}; "
                f"the first line {', '.join(header)}",
            )
        rows.append([cell_text(value[key]) for key in header])
    return Table(header=header, rows=rows)
