"""What jobs take in: the model an inference job loads, training data, inference input.

Each is a pair of mutually exclusive sources (a name or a URI, inline records or a
file), guarded by a CEL rule (or, for records, which CEL cannot type, an OpenAPI
`oneOf`) next to the fields, and by `exclusive_pair`, which the spec's validator uses
to give clients the same error before the API server does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from aijob_api.cel import exactly_one_rule
from aijob_api.validation import DNS_LABEL_PATTERN, MODEL_TYPE_PATTERN
from aijob_api.wire import WireModel

MAX_INLINE_RECORDS: Final = 1000
"""Inline inference records are for small inputs; larger ones go in a file."""
URI_PATTERN: Final = r"^(file|s3)://.+"


class ModelSource(WireModel):
    """Where an inference job takes its model from: a finished training AIJob or a URI."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                exactly_one_rule(
                    "trainingJob", "uri", "model.source needs exactly one of trainingJob or uri"
                )
            ]
        }
    )

    training_job: Annotated[
        str | None,
        Field(
            description="Name of a training AIJob in the same namespace whose model to use.",
            max_length=63,
            pattern=DNS_LABEL_PATTERN,
        ),
    ] = None
    uri: Annotated[
        str | None,
        Field(
            description="URI of a saved model (file:///path or s3://bucket/key).",
            max_length=2048,
            pattern=URI_PATTERN,
        ),
    ] = None


class DatasetSpec(WireModel):
    """Training data: a data set bundled with the framework, or a CSV file."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                exactly_one_rule("name", "uri", "dataset needs exactly one of name or uri")
            ]
        }
    )

    name: Annotated[
        str | None,
        Field(
            description="A bundled data set: iris, digits, wine, breast_cancer, or a text set.",
            max_length=63,
            pattern=MODEL_TYPE_PATTERN,
        ),
    ] = None
    uri: Annotated[
        str | None,
        Field(
            description="A CSV file (file:///path or s3://bucket/key).",
            max_length=2048,
            pattern=URI_PATTERN,
        ),
    ] = None
    target_column: Annotated[
        str | None,
        Field(
            description="The label column of a CSV data set (default: the last).", max_length=253
        ),
    ] = None
    test_fraction: Annotated[
        float,
        Field(description="Share of rows held out for evaluation.", gt=0, lt=1),
    ] = 0.2


class InferenceInput(WireModel):
    """Input of an inference job: inline records (small) or a file."""

    # Not a CEL rule: records hold any JSON (numbers, lists, objects, strings), which CEL
    # cannot type, so a rule could not name the field. Plain OpenAPI can: exactly one of,
    # in the schema of what is accepted (the CRD, the gateway's request bodies). Not in the
    # schema of answers: they carry the other member as null, which `required` counts.
    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Exactly one of records and uri, in validation mode."""
        schema = handler(core_schema)
        if handler.mode == "validation":
            handler.resolve_ref_schema(schema)["oneOf"] = [
                {"required": ["records"]},
                {"required": ["uri"]},
            ]
        return schema

    records: Annotated[
        list[Any] | None,
        Field(
            description="Inline records: feature lists, objects, or strings for text models.",
            max_length=MAX_INLINE_RECORDS,
        ),
    ] = None
    uri: Annotated[
        str | None,
        Field(
            description="A CSV or JSON-lines file of records (file:///path or s3://bucket/key).",
            max_length=2048,
            pattern=URI_PATTERN,
        ),
    ] = None
    batch_size: Annotated[
        int,
        Field(description="Records per inference batch.", ge=1, le=100_000),
    ] = 64


def exclusive_pair(part: BaseModel) -> tuple[str, str]:
    """The two fields of an input of which exactly one must be set (Python names)."""
    if isinstance(part, ModelSource):
        return ("training_job", "uri")
    if isinstance(part, DatasetSpec):
        return ("name", "uri")
    return ("records", "uri")


class DataFormat(StrEnum):
    """The file formats a data set (`dataset.uri`) may be in, told by the file's extension."""

    CSV = "csv"
    """A header row, then one row per sample."""
    PARQUET = "parquet"
    """Apache Parquet: one column per feature and one for the label."""
    JSONL = "jsonl"
    """JSON lines: one object per line, keyed by column name."""


DATA_FORMAT_EXTENSIONS: Final = {
    ".csv": DataFormat.CSV,
    ".parquet": DataFormat.PARQUET,
    ".pq": DataFormat.PARQUET,
    ".jsonl": DataFormat.JSONL,
    ".ndjson": DataFormat.JSONL,
}
"""Extension (lowercase) of a data file -> its format."""


def data_format_of(name: str) -> DataFormat | None:
    """The format a file name's extension announces, or None when it names none we read."""
    base = name.rsplit("/", 1)[-1].lower()
    _, dot, extension = base.rpartition(".")
    return DATA_FORMAT_EXTENSIONS.get(f".{extension}") if dot else None


def is_data_directory(uri: str) -> bool:
    """Whether a data set URI names a directory (an S3 prefix) of shards: it ends in `/`."""
    return uri.endswith("/")


def dataset_uri_problem(uri: str) -> str | None:
    """Why `dataset.uri` names no data set the workers can read, or None when it does.

    The one rule, pure, that the gateway applies at submission (422 naming
    `spec.dataset.uri`) and the worker applies before it reads anything: a file whose
    extension is one of `DATA_FORMAT_EXTENSIONS`, or a directory (ending in `/`) of such
    files, all of one format (which only the worker, listing them, can check).
    """
    if is_data_directory(uri):
        return None
    if data_format_of(urlsplit(uri).path) is None:
        accepted = ", ".join(DATA_FORMAT_EXTENSIONS)
        return (
            f"{uri!r}: not a data format the workers read; name a file ending in {accepted}, "
            "or a directory of such files ending in '/'"
        )
    return None
