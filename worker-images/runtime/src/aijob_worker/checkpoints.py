"""Checkpoints: save a runner's state through the storage layer and find it again.

A checkpoint is a directory the runner fills, uploaded below
`<artifact URI>/checkpoints/epoch-<N>`, described in `status.checkpoint`. The
next attempt reads `status.checkpoint` of its AIJob and, when the checkpoint is
intact, resumes from it; an unreadable checkpoint is logged and the job starts
over rather than failing.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aijob_api.models import Checkpoint

from aijob_worker.manifest import CHECKPOINT_MANIFEST, Manifest, ManifestError, read_manifest
from aijob_worker.manifest import write_manifest as write_manifest_file
from aijob_worker.storage import join_uri, storage_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResumePoint:
    """A checkpoint fetched to local disk, ready for the runner to restore."""

    directory: Path
    epoch: int
    step: int | None
    uri: str
    manifest: Manifest


class CheckpointStore:
    """Saves checkpoints below the job's artifact URI and fetches the one in the status."""

    def __init__(self, artifact_uri: str, *, model_type: str, framework: str) -> None:
        self._artifact_uri = artifact_uri
        self._model_type = model_type
        self._framework = framework

    def save(self, directory: Path, *, epoch: int, step: int | None) -> Checkpoint:
        """Upload a filled checkpoint directory; return what goes into status.checkpoint."""
        write_manifest_file(
            directory,
            Manifest(
                model_type=self._model_type, framework=self._framework, epoch=epoch, step=step
            ),
            name=CHECKPOINT_MANIFEST,
        )
        suffix = f"epoch-{epoch:05d}" if step is None else f"epoch-{epoch:05d}-step-{step}"
        uri = join_uri(self._artifact_uri, "checkpoints", suffix)
        storage_for(uri).put_tree(directory, uri)
        return Checkpoint(uri=uri, epoch=epoch, step=step, saved_at=datetime.now(UTC))

    def fetch(self, checkpoint: Checkpoint, into: Path) -> ResumePoint | None:
        """Download and verify the checkpoint; None (start over) when it cannot be used."""
        if into.exists():
            shutil.rmtree(into)
        try:
            storage_for(checkpoint.uri).get_tree(checkpoint.uri, into)
            manifest = read_manifest(into, name=CHECKPOINT_MANIFEST)
        except (OSError, ValueError, ManifestError) as error:
            logger.warning(
                "checkpoint unusable, starting over",
                extra={"uri": checkpoint.uri, "error": str(error)},
            )
            return None
        if manifest.model_type != self._model_type:
            logger.warning(
                "checkpoint is of another model type, starting over",
                extra={"uri": checkpoint.uri, "checkpoint_model_type": manifest.model_type},
            )
            return None
        epoch = manifest.epoch if manifest.epoch is not None else checkpoint.epoch or 0
        return ResumePoint(
            directory=into, epoch=epoch, step=manifest.step, uri=checkpoint.uri, manifest=manifest
        )
