"""A table of named columns read from a data file (CSV, Parquet, JSON lines), cells as text.

Every format ends here, so the tabular and text loaders handle one shape whatever the
file was: a header and rows of strings (an empty cell for a missing value).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from aijob_worker.errors import BadInputError


@dataclass(frozen=True)
class Table:
    """A data file's header and rows (all values as strings)."""

    header: list[str]
    rows: list[list[str]]

    def column(self, name: str, *, field: str) -> int:
        """Index of a column; an unknown name is bad input on `field`."""
        if name not in self.header:
            raise BadInputError(field, f"no column {name!r}; columns are {', '.join(self.header)}")
        return self.header.index(name)


def cell_text(value: Any) -> str:
    """A typed value (Parquet, JSON) as the text a CSV cell would hold; None is empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    return json.dumps(value, default=str)


def concatenate(tables: list[tuple[str, Table]], *, field: str) -> Table:
    """Shards of one data set, in the given order; each must have the first one's columns."""
    first_name, first = tables[0]
    rows = list(first.rows)
    for name, table in tables[1:]:
        if table.header != first.header:
            raise BadInputError(
                field,
                f"shard {name} has columns {', '.join(table.header)}; "
                f"{first_name} has {', '.join(first.header)}",
            )
        rows.extend(table.rows)
    return Table(header=first.header, rows=rows)
