"""The manifest stored with every saved model or checkpoint: what it is and its checksums.

A model directory holds the framework's files plus `aijob-model.json`; a
checkpoint directory holds `aijob-checkpoint.json`. Loading verifies every
file against the SHA-256 recorded at save time, so a truncated or altered
model is refused with a clear message instead of a confusing framework error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from aijob_worker import __version__
from aijob_worker.storage.base import relative_files, sha256_of

MODEL_MANIFEST = "aijob-model.json"
CHECKPOINT_MANIFEST = "aijob-checkpoint.json"
FORMAT_VERSION = 1


class ManifestError(Exception):
    """A manifest is missing, unreadable, or a file does not match its checksum."""


class Manifest(BaseModel):
    """Describes a saved model or checkpoint directory."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    format_version: int = FORMAT_VERSION
    model_type: str
    framework: str
    runtime_version: str = __version__
    framework_versions: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    epoch: int | None = None
    step: int | None = None
    files: dict[str, str] = Field(default_factory=dict)
    """Relative path to SHA-256 of every file in the directory but the manifest."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """What the runner needs to load it (classes, feature names, shapes)."""


def write_manifest(directory: Path, manifest: Manifest, *, name: str = MODEL_MANIFEST) -> Manifest:
    """Record the checksums of the directory's files and write the manifest into it."""
    files = {
        relative.as_posix(): sha256_of(directory / relative)
        for relative in relative_files(directory)
        if relative.as_posix() != name
    }
    complete = manifest.model_copy(update={"files": files})
    (directory / name).write_text(complete.model_dump_json(by_alias=True, indent=2))
    return complete


def read_manifest(directory: Path, *, name: str = MODEL_MANIFEST) -> Manifest:
    """Read a manifest and verify every file it lists."""
    path = directory / name
    if not path.is_file():
        raise ManifestError(f"no {name} in it: not a model saved by aijob")
    try:
        manifest = Manifest.model_validate_json(path.read_text())
    except (OSError, ValidationError) as error:
        raise ManifestError(f"{name} is unreadable: {error}") from error
    if manifest.format_version > FORMAT_VERSION:
        raise ManifestError(
            f"saved by a newer runtime (format {manifest.format_version}, "
            f"this runtime reads {FORMAT_VERSION})"
        )
    for relative, expected in manifest.files.items():
        file = directory / relative
        if not file.is_file():
            raise ManifestError(f"{relative} is missing")
        if sha256_of(file) != expected:
            raise ManifestError(f"{relative} does not match its SHA-256 {expected[:12]}...")
    return manifest
