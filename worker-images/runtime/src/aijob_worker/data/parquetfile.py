"""Read an Apache Parquet file (pyarrow) into a table; a file that is not one is bad input."""

from __future__ import annotations

from pathlib import Path

from aijob_worker.data.table import Table, cell_text
from aijob_worker.errors import BadInputError


def read_parquet(path: Path, *, field: str) -> Table:
    """Every column of the file, in its schema's order; no rows is bad input on `field`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        raise BadInputError(
            field, f"{path.name} is not a readable Parquet file: {error}"
        ) from error
    if table.num_rows == 0:
        raise BadInputError(field, f"{path.name} has columns but no rows")
    header = [str(name) for name in table.column_names]
    columns = [[cell_text(value) for value in column.to_pylist()] for column in table.columns]
    return Table(header=header, rows=[list(row) for row in zip(*columns, strict=True)])
