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
from pathlib import Path
from typing import Any

from aijob_api.models import Artifact, Results

from aijob_worker.context import JobContext
from aijob_worker.data.records import load_records
from aijob_worker.errors import BadInputError, JobInterruptedError
from aijob_worker.manifest import ManifestError, read_manifest
from aijob_worker.progress import ProgressReporter
from aijob_worker.runners import MODEL_TYPE_FIELD, Runner, RunnerRegistry
from aijob_worker.signals import StopFlag
from aijob_worker.status import KubeStatusWriter, StatusWriteError, StatusWriter
from aijob_worker.storage import join_uri, storage_for
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


def load_runner(
    registry: RunnerRegistry, model_uri: str, requested_type: str, work_dir: Path
) -> Runner:
    """Fetch and verify the model, and load it into the runner of its model type."""
    local = work_dir / "model"
    try:
        storage_for(model_uri).get_tree(model_uri, local)
        manifest = read_manifest(local)
    except (OSError, ValueError, ManifestError) as error:
        raise BadInputError(
            MODEL_SOURCE_FIELD, f"cannot load the model at {model_uri}: {error}"
        ) from error
    runner_class = registry.runner_for(manifest.model_type)
    if requested_type != manifest.model_type and requested_type not in runner_class.model_types:
        raise BadInputError(
            MODEL_TYPE_FIELD,
            f"{requested_type!r} does not match the model at {model_uri}, "
            f"a {manifest.model_type} model",
        )
    runner = runner_class(manifest.model_type)
    runner.load(local, manifest.metadata)
    return runner


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
        runner = load_runner(registry, model_uri, spec.model.type, work_dir)
        records = load_records(spec.input)
    total = len(records)
    batch_size = spec.input.batch_size
    outputs: list[Any] = []
    started = time.perf_counter()
    for offset in range(0, total, batch_size):
        if stop.requested:
            raise JobInterruptedError(None)
        batch = records[offset : offset + batch_size]
        with timer.stage("prepare"):
            prepared = runner.prepare(batch, offset=offset)
        with timer.stage("infer"):
            raw = runner.infer(prepared)
            batch_outputs = runner.postprocess(raw)
        if len(batch_outputs) != len(batch):
            raise RuntimeError(
                f"{type(runner).__name__} returned {len(batch_outputs)} outputs for "
                f"{len(batch)} records"
            )
        outputs.extend(batch_outputs)
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
