"""Checkpoints: save a runner's state through the storage layer and find it again.

A checkpoint is a directory the runner fills, uploaded below
`<artifact URI>/checkpoints/epoch-<N>[-step-<M>]`, described in `status.checkpoint`.
The next attempt reads `status.checkpoint` of its AIJob and, when the checkpoint is
intact, resumes from it; an unreadable checkpoint is logged and the job starts
over rather than failing.

Old checkpoints are pruned once a new one is in the status: the new one and the
`keep - 1` before it stay; older ones go, and so do any that sort after the new
one (left by an attempt that started over: nothing will resume from them).
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aijob_api.models import Checkpoint

from aijob_worker.manifest import CHECKPOINT_MANIFEST, Manifest, ManifestError, read_manifest
from aijob_worker.manifest import write_manifest as write_manifest_file
from aijob_worker.storage import join_uri, storage_for

logger = logging.getLogger(__name__)

CHECKPOINTS_DIR = "checkpoints"
_CHECKPOINT_NAME = re.compile(r"^epoch-(\d+)(?:-step-(\d+))?$")


def checkpoint_name(epoch: int, step: int | None) -> str:
    """The directory name of a checkpoint below `<artifact URI>/checkpoints`."""
    return f"epoch-{epoch:05d}" if step is None else f"epoch-{epoch:05d}-step-{step}"


def checkpoint_order(name: str) -> tuple[int, int] | None:
    """Sort key of a checkpoint directory (epochs done, then steps); None if not one."""
    match = _CHECKPOINT_NAME.match(name)
    if match is None:
        return None
    step = match.group(2)
    return int(match.group(1)), -1 if step is None else int(step)


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
        uri = join_uri(self._artifact_uri, CHECKPOINTS_DIR, checkpoint_name(epoch, step))
        storage_for(uri).put_tree(directory, uri)
        return Checkpoint(uri=uri, epoch=epoch, step=step, saved_at=datetime.now(UTC))

    def prune(self, current: Checkpoint, *, keep: int) -> list[str]:
        """Delete all but `current` and the `keep - 1` checkpoints before it; return their URIs.

        A failure is logged and leaves the rest in place: pruning never fails a job.
        """
        root = join_uri(self._artifact_uri, CHECKPOINTS_DIR)
        current_name = current.uri.rstrip("/").rsplit("/", 1)[-1]
        current_key = checkpoint_order(current_name)
        if current_key is None or not current.uri.startswith(root + "/"):
            return []
        storage = storage_for(root)
        try:
            names = storage.list_children(root)
        except (OSError, ValueError) as error:
            logger.warning("cannot list checkpoints to prune", extra={"error": str(error)})
            return []
        keyed = [(key, name) for name in names if (key := checkpoint_order(name)) is not None]
        earlier = sorted((item for item in keyed if item[0] < current_key), reverse=True)
        stale = [name for key, name in keyed if key > current_key]
        doomed = [name for _, name in earlier[max(0, keep - 1) :]] + stale
        deleted = []
        for name in doomed:
            uri = join_uri(root, name)
            try:
                storage.delete_tree(uri)
            except (OSError, ValueError) as error:
                logger.warning(
                    "cannot delete a checkpoint", extra={"uri": uri, "error": str(error)}
                )
                continue
            deleted.append(uri)
        if deleted:
            logger.info("old checkpoints deleted", extra={"event": "prune", "uris": deleted})
        return deleted

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
