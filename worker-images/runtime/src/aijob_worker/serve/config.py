"""What `aijob-worker serve` serves and how: a YAML/JSON file (`--config`) and/or flags.

The file uses the camelCase names below (the operator writes it from the
AIEndpoint); every field is also a flag (`maxBatchSize` is `--max-batch-size`),
and a flag wins over the file. Anything wrong is a `BadInputError` naming the
field as the file spells it, so the pod's termination message says what to fix.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from aijob_worker.errors import BadInputError, bad_input_from_validation

CONFIG_FLAG: Final = "--config"
MODEL_URI_SCHEMES: Final = ("file://", "s3://")
MIB: Final = 1024 * 1024


class ServeConfig(BaseModel):
    """The model server's settings (one model per server)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    name: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$",
            description="The model's name in the routes (/v2/models/NAME); the endpoint's name.",
        ),
    ]
    model_uri: Annotated[
        str,
        Field(
            min_length=8,
            max_length=2048,
            description="The saved model (file:// or s3://), verified against its checksums.",
        ),
    ]
    model_type: Annotated[
        str | None,
        Field(max_length=63, description="Expected model type; checked against the model."),
    ] = None
    model_sha256: Annotated[
        str | None,
        Field(
            pattern=r"^[0-9a-f]{64}$",
            description=(
                "SHA-256 of the model's manifest as its training job recorded it (the operator "
                "hands it over): a model changed in the store after training is refused."
            ),
        ),
    ] = None
    framework: Annotated[
        str | None,
        Field(
            pattern=r"^[a-z0-9_]{1,63}$",
            description="Expected framework of the model's runner (sklearn, pytorch, tensorflow).",
        ),
    ] = None
    host: Annotated[str, Field(min_length=1, description="Address to listen on.")] = "0.0.0.0"  # noqa: S104
    port: Annotated[int, Field(ge=0, le=65535, description="Port (0: any free port).")] = 8080
    max_batch_size: Annotated[
        int, Field(ge=1, le=4096, description="Most records run through the model at once.")
    ] = 32
    max_batch_wait_ms: Annotated[
        float, Field(ge=0, le=10_000, description="Longest a request waits for others to batch.")
    ] = 5.0
    max_concurrency: Annotated[
        int,
        Field(ge=1, le=100_000, description="Most requests held at once; more are answered 429."),
    ] = 64
    request_timeout_seconds: Annotated[
        float, Field(gt=0, le=3600, description="Longest a request waits for its answer (504).")
    ] = 30.0
    max_request_bytes: Annotated[
        int, Field(ge=1024, le=1024 * MIB, description="Largest body accepted (413 beyond).")
    ] = 16 * MIB
    drain_timeout_seconds: Annotated[
        float, Field(ge=0, le=3600, description="Longest the drain waits after SIGTERM.")
    ] = 25.0

    @field_validator("model_uri")
    @classmethod
    def _stored_model(cls, uri: str) -> str:
        if not uri.startswith(MODEL_URI_SCHEMES):
            raise ValueError(f"must start with {' or '.join(MODEL_URI_SCHEMES)}")
        return uri


def flag_of(field_name: str) -> str:
    """The command-line flag of a field: `max_batch_size` is `--max-batch-size`."""
    return "--" + field_name.replace("_", "-")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """`--config FILE` and one flag per field (values are validated by the model)."""
    parser.add_argument(
        CONFIG_FLAG, metavar="FILE", help="YAML or JSON file with the fields below (camelCase)"
    )
    for name, field in ServeConfig.model_fields.items():
        default = "" if field.default is None else f" (default {field.default})"
        parser.add_argument(
            flag_of(name),
            dest=name,
            metavar=name.upper(),
            help=f"{field.alias}: {field.description}{default}",
        )


def load_config(config_file: str | None, flags: Mapping[str, Any]) -> ServeConfig:
    """The file's fields with the given flags (those not None) over them, validated."""
    document: dict[str, Any] = read_config_file(Path(config_file)) if config_file else {}
    for name, value in flags.items():
        field = ServeConfig.model_fields.get(name)
        if field is not None and value is not None:
            document[field.alias or name] = value
    try:
        return ServeConfig.model_validate(document)
    except ValidationError as error:
        raise bad_input_from_validation("", error.errors()) from error


def read_config_file(path: Path) -> dict[str, Any]:
    """A YAML (or JSON) mapping; an unreadable file or another shape is bad input on --config."""
    import yaml  # only the server reads YAML

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise BadInputError(CONFIG_FLAG, f"cannot read {path}: {error}") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise BadInputError(CONFIG_FLAG, f"{path} must hold a mapping of settings")
    return {str(key): value for key, value in loaded.items()}
