"""Read a CSV file with a header row into a table, naming the place of any bad value."""

from __future__ import annotations

import csv
from pathlib import Path

from aijob_worker.data.table import Table
from aijob_worker.errors import BadInputError


def read_csv(path: Path, *, field: str) -> Table:
    """Parse a CSV with a header; empty files and ragged rows are bad input on `field`."""
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            header = next(reader, None)
            rows = [row for row in reader if row]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BadInputError(field, f"cannot read CSV {path.name}: {error}") from error
    if not header:
        raise BadInputError(field, f"{path.name} is empty; a header row is needed")
    header = [name.strip() for name in header]
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise BadInputError(
                field, f"{path.name} line {number} has {len(row)} values, the header {len(header)}"
            )
    if not rows:
        raise BadInputError(field, f"{path.name} has a header but no rows")
    return Table(header=header, rows=rows)


def parse_number(value: str, *, field: str, where: str) -> float:
    """A float from a table cell; anything else is bad input naming the cell."""
    try:
        return float(value)
    except ValueError as error:
        raise BadInputError(field, f"{where}: {value!r} is not a number") from error
