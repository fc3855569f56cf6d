"""The pretrained model a training job fine-tunes (`spec.model.pretrained`), fetched for runners.

A runner says which formats its model types take (`require_format`); the model is then
downloaded from the tenant's store, a directory (Hugging Face) or a file (the others),
into the work directory. A hub id is not downloaded here: the runner hands it to its
framework's loader with `hub_token()` (the `tokenSecret` the operator gave the pod by
reference). A model saved by an aijob job is checked against the SHA-256s its manifest
(`aijob-model.json`, in the directory or beside the file) records. Whatever cannot be
fetched, does not match, or is not a model of the format, is bad input naming the field,
never retried.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from aijob_api.pretrained import HUB_TOKEN_ENV, PretrainedFormat, PretrainedModel
from pydantic import ValidationError

from aijob_worker.errors import BadInputError
from aijob_worker.manifest import MODEL_MANIFEST, Manifest, ManifestError, read_manifest
from aijob_worker.storage import join_uri, sha256_of, storage_for

FIELD = "spec.model.pretrained"
URI_FIELD = f"{FIELD}.uri"
HUB_ID_FIELD = f"{FIELD}.hubId"
FORMAT_FIELD = f"{FIELD}.format"


def require_format(
    pretrained: PretrainedModel, accepted: Collection[PretrainedFormat], model_type: str
) -> None:
    """Refuse a format the model type cannot start from, naming the ones it can."""
    if pretrained.format not in accepted:
        names = ", ".join(sorted(str(item) for item in accepted)) or "none"
        raise BadInputError(
            FORMAT_FIELD,
            f"model type {model_type} cannot be fine-tuned from {pretrained.format} "
            f"(it takes: {names})",
        )


def source_field(pretrained: PretrainedModel) -> str:
    """The field naming where the model comes from (`uri` or `hubId`)."""
    return URI_FIELD if pretrained.uri is not None else HUB_ID_FIELD


def fetch_directory(pretrained: PretrainedModel, work_dir: Path) -> Path:
    """Download a model directory from the store (`uri`) into the work directory."""
    uri = _uri(pretrained)
    local = work_dir / "pretrained"
    try:
        storage_for(uri).get_tree(uri, local)
    except Exception as error:  # a missing prefix: OSError here, botocore's own errors in s3
        raise BadInputError(URI_FIELD, f"cannot download the directory {uri}: {error}") from error
    if not local.is_dir() or not any(local.iterdir()):
        raise BadInputError(URI_FIELD, f"{uri} holds no files")
    if (local / MODEL_MANIFEST).is_file():  # saved by an aijob job: its checksums must match
        try:
            read_manifest(local)
        except ManifestError as error:
            raise BadInputError(URI_FIELD, f"{uri}: {error}") from error
    return local


def fetch_file(pretrained: PretrainedModel, work_dir: Path, *, suffix: str = "") -> Path:
    """Download a model file from the store (`uri`) into the work directory (its local
    name ending in `suffix`, for loaders that go by the extension)."""
    uri = _uri(pretrained)
    local = work_dir / f"pretrained-model{suffix}"
    try:
        storage_for(uri).get_file(uri, local)
    except Exception as error:  # as in fetch_directory
        raise BadInputError(URI_FIELD, f"cannot download the file {uri}: {error}") from error
    _check_recorded_checksum(uri, local, work_dir)
    return local


def _check_recorded_checksum(uri: str, local: Path, work_dir: Path) -> None:
    """A file of an aijob job's model directory must match the SHA-256 its manifest records."""
    parent, _, name = uri.rstrip("/").rpartition("/")
    manifest_uri = join_uri(parent, MODEL_MANIFEST)
    storage = storage_for(uri)
    if not storage.exists(manifest_uri):
        return
    recorded = work_dir / "pretrained-manifest.json"
    storage.get_file(manifest_uri, recorded)
    try:
        expected = Manifest.model_validate_json(recorded.read_text()).files.get(name)
    except ValidationError:
        return  # not an aijob manifest after all: nothing recorded to check against
    if expected is not None and sha256_of(local) != expected:
        raise BadInputError(
            URI_FIELD,
            f"{uri} does not match the SHA-256 {expected[:12]}... its {MODEL_MANIFEST} records",
        )


def hub_token() -> str | None:
    """The hub token the pod was given (from `tokenSecret`), if any."""
    return os.environ.get(HUB_TOKEN_ENV) or None


def _uri(pretrained: PretrainedModel) -> str:
    if pretrained.uri is None:
        raise BadInputError(
            HUB_ID_FIELD, f"a {pretrained.format} model comes from the store (uri), not a hub"
        )
    return pretrained.uri
