"""An inference job: load a saved model, run the input in batches, report outputs and timings.

Stages (as the seed inference server reported them): `prepare` covers loading
the model and the input and turning each batch into the model's input;
`infer` covers running the model and post-processing its output; `upload`
covers writing the outputs file. Small inputs' outputs also go into
`status.results.outputs`; every output is written to
`<artifact URI>/outputs/predictions.jsonl` (`results.outputUri`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aijob_api.models import Artifact, Results

from aijob_worker.context import JobContext
from aijob_worker.data.records import load_records
from aijob_worker.errors import BadInputError, JobInterruptedError
from aijob_worker.manifest import MODEL_MANIFEST, Manifest, ManifestError, read_manifest
from aijob_worker.predict import predict_batch
from aijob_worker.progress import ProgressReporter
from aijob_worker.runners import MODEL_TYPE_FIELD, Runner, RunnerRegistry
from aijob_worker.signals import StopFlag
from aijob_worker.status import KubeStatusWriter, StatusWriteError, StatusWriter
from aijob_worker.storage import join_uri, storage_for
from aijob_worker.storage.base import sha256_of
from aijob_worker.timing import StageTimer

logger = logging.getLogger(__name__)

INLINE_OUTPUT_LIMIT = 100
"""Inputs of at most this many records get their outputs in the status itself."""
OUTPUTS_FILE = "predictions.jsonl"
MODEL_SOURCE_FIELD = "spec.model.source"


def resolve_model_uri(context: JobContext, writer: StatusWriter) -> str:
    """The model to load: the operator's AIJOB_MODEL_URI, the spec's URI, or the training job's."""
    if context.model_uri:
        return context.model_uri
    source = context.spec.model.source
    if source is None:
        raise BadInputError(MODEL_SOURCE_FIELD, "an inference job needs trainingJob or uri")
    if source.uri:
        return source.uri
    if not isinstance(writer, KubeStatusWriter) or source.training_job is None:
        raise BadInputError(
            f"{MODEL_SOURCE_FIELD}.trainingJob",
            "cannot look up a training job without a cluster; set AIJOB_MODEL_URI",
        )
    try:
        status = writer.read_other_status(source.training_job)
    except StatusWriteError as error:
        raise BadInputError(
            f"{MODEL_SOURCE_FIELD}.trainingJob",
            f"cannot read AIJob {source.training_job}: {error}",
        ) from error
    if status.results is None or not status.results.model_uri:
        raise BadInputError(
            f"{MODEL_SOURCE_FIELD}.trainingJob",
            f"AIJob {source.training_job} has no model yet (status.results.modelUri is empty)",
        )
    return status.results.model_uri


@dataclass(frozen=True)
class LoadedModel:
    """A model fetched, verified against its manifest's checksums, and loaded into its runner."""

    runner: Runner
    manifest: Manifest
    directory: Path
    """The local copy of the model directory (it must outlive the runner)."""

    @property
    def checksum(self) -> str:
        """SHA-256 of the manifest, which holds every file's SHA-256: one digest of the model."""
        return sha256_of(self.directory / MODEL_MANIFEST)


def load_model(
    registry: RunnerRegistry,
    model_uri: str,
    requested_type: str | None,
    work_dir: Path,
    expected_checksum: str | None = None,
) -> LoadedModel:
    """Fetch and verify the model, and load it into the runner of its model type.

    `requested_type` (when given) must be the model's type or one its runner serves.
    `expected_checksum` (the SHA-256 of the manifest its training job recorded in its
    status, handed over by the operator) must match before anything is unpickled: a model
    changed in the store after training is refused.
    """
    local = work_dir / "model"
    try:
        storage_for(model_uri).get_tree(model_uri, local)
        manifest = read_manifest(local)
    except (OSError, ValueError, ManifestError) as error:
        raise BadInputError(
            MODEL_SOURCE_FIELD, f"cannot load the model at {model_uri}: {error}"
        ) from error
    if expected_checksum is not None:
        found = sha256_of(local / MODEL_MANIFEST)
        if found != expected_checksum:
            raise BadInputError(
                MODEL_SOURCE_FIELD,
                f"the model at {model_uri} is not the one its training job recorded "
                f"(manifest SHA-256 {found[:12]}..., recorded {expected_checksum[:12]}...): "
                "it was changed after training; refusing to load it",
            )
    runner_class = registry.runner_for(manifest.model_type)
    if (
        requested_type is not None
        and requested_type != manifest.model_type
        and requested_type not in runner_class.model_types
    ):
        raise BadInputError(
            MODEL_TYPE_FIELD,
            f"{requested_type!r} does not match the model at {model_uri}, "
            f"a {manifest.model_type} model",
        )
    runner = runner_class(manifest.model_type)
    runner.load(local, manifest.metadata)
    return LoadedModel(runner=runner, manifest=manifest, directory=local)


def run_inference(
    context: JobContext,
    registry: RunnerRegistry,
    *,
    writer: StatusWriter,
    reporter: ProgressReporter,
    stop: StopFlag,
    work_dir: Path,
) -> Results:
    """Run the job's input through the model and return the results."""
    spec = context.spec
    assert spec.input is not None  # the spec guarantees an input for inference jobs
    timer = StageTimer()
    with timer.stage("prepare"):
        reporter.report(stage="loading model")
        model_uri = resolve_model_uri(context, writer)
        runner = load_model(
            registry, model_uri, spec.model.type, work_dir, context.model_sha256
        ).runner
        records = load_records(spec.input)
    total = len(records)
    batch_size = spec.input.batch_size
    outputs: list[Any] = []
    started = time.perf_counter()
    for offset in range(0, total, batch_size):
        if stop.requested:
            raise JobInterruptedError(None)
        predicted = predict_batch(runner, records[offset : offset + batch_size], offset=offset)
        timer.add("prepare", predicted.times.prepare_ms)
        timer.add("infer", predicted.times.infer_ms + predicted.times.postprocess_ms)
        outputs.extend(predicted.outputs)
        reporter.report(step=len(outputs), total_steps=total, stage="inferring")
    elapsed = time.perf_counter() - started

    with timer.stage("upload"):
        reporter.report(stage="uploading")
        local = work_dir / OUTPUTS_FILE
        with local.open("w") as stream:
            for output in outputs:
                stream.write(json.dumps(output) + "\n")
        output_uri = join_uri(context.artifact_uri, "outputs", OUTPUTS_FILE)
        stored = storage_for(output_uri).put_file(local, output_uri)

    return Results(
        metrics={
            "records": float(total),
            "recordsPerSecond": round(total / elapsed, 1) if elapsed > 0 else 0.0,
        },
        model_uri=model_uri,
        outputs=outputs if total <= INLINE_OUTPUT_LIMIT else None,
        output_uri=output_uri,
        artifacts=[
            Artifact(
                name=f"outputs/{OUTPUTS_FILE}",
                uri=stored.uri,
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
            )
        ],
        timings=timer.to_status(),
        device=runner.device(),
    )
