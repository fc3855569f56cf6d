"""A training data set named by `dataset.uri`: one file, or a directory of shards, as a table.

The format comes from the extension (`aijob_api.inputs.DATA_FORMAT_EXTENSIONS`: CSV,
Parquet, JSON lines), by the rule the gateway applies at submission. A URI ending in
`/` is a directory (an S3 prefix) of files of one format, read in sorted order and
concatenated; names starting with `.` or `_` (`_SUCCESS` markers) are left out. Local
paths (`file:///...`, a mounted volume) are read in place; `s3://` objects are
downloaded to a temporary directory first. Every problem is bad input on `field`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from aijob_api.inputs import DataFormat, data_format_of, dataset_uri_problem, is_data_directory

from aijob_worker.data.csvfile import read_csv
from aijob_worker.data.fetch import fetch_to
from aijob_worker.data.jsonlines import read_jsonl
from aijob_worker.data.parquetfile import read_parquet
from aijob_worker.data.table import Table, concatenate
from aijob_worker.errors import BadInputError
from aijob_worker.storage import storage_for
from aijob_worker.storage.base import relative_files
from aijob_worker.storage.local import path_of

READERS: dict[DataFormat, Callable[..., Table]] = {
    DataFormat.CSV: read_csv,
    DataFormat.PARQUET: read_parquet,
    DataFormat.JSONL: read_jsonl,
}


def read_dataset(uri: str, *, field: str) -> Table:
    """The table a data set URI holds (all its shards, for a directory)."""
    problem = dataset_uri_problem(uri)
    if problem is not None:
        raise BadInputError(field, problem)
    if uri.startswith("s3://"):
        with tempfile.TemporaryDirectory(prefix="aijob-data-") as directory:
            return _read_local(uri, _download(uri, Path(directory), field=field), field=field)
    try:
        local = path_of(uri)
    except ValueError as error:
        raise BadInputError(field, str(error)) from error
    return _read_local(uri, local, field=field)


def _download(uri: str, directory: Path, *, field: str) -> Path:
    if not is_data_directory(uri):
        return fetch_to(uri, directory, field=field)
    try:
        return storage_for(uri).get_tree(uri, directory / "shards")
    except FileNotFoundError as error:
        raise BadInputError(field, f"{uri} is an empty directory: no data files in it") from error
    except (OSError, ValueError) as error:
        raise BadInputError(field, f"cannot read {uri}: {error}") from error


def _read_local(uri: str, local: Path, *, field: str) -> Table:
    if not is_data_directory(uri):
        if not local.is_file():
            raise BadInputError(field, f"cannot read {uri}: no such file")
        data_format = data_format_of(local.name)
        assert data_format is not None  # dataset_uri_problem checked the extension
        return READERS[data_format](local, field=field)
    if not local.is_dir():
        raise BadInputError(field, f"cannot read {uri}: no such directory")
    shards = [
        relative
        for relative in relative_files(local)
        if not any(part.startswith((".", "_")) for part in relative.parts)
    ]
    if not shards:
        raise BadInputError(field, f"{uri} is an empty directory: no data files in it")
    formats = {shard.as_posix(): data_format_of(shard.name) for shard in shards}
    unknown = [name for name, data_format in formats.items() if data_format is None]
    if unknown:
        raise BadInputError(
            field, f"{uri}: {', '.join(unknown[:5])} is in no data format the workers read"
        )
    found = sorted({str(data_format) for data_format in formats.values()})
    if len(found) > 1:
        raise BadInputError(
            field, f"{uri} mixes formats ({', '.join(found)}); a directory holds one format"
        )
    read = READERS[DataFormat(found[0])]
    return concatenate(
        [(shard.as_posix(), read(local / shard, field=field)) for shard in shards], field=field
    )
