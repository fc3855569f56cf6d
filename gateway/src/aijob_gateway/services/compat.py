"""Mapping between the seed job queue's requests and responses and AIJobs (pure).

Training: model_type -> spec.model.type, data_path -> spec.dataset (a bundled data
set's name, a file in the tenant's store, or an s3:// URI; any other path is refused,
since the job's pod could not read it), hyperparameters -> spec.model.hyperparameters,
description -> the description annotation, requires_gpu -> resources.gpu = 1,
framework_override -> spec.framework (the seed's version part is recorded, not
used: the runtime catalog picks the version; a `-gpu` suffix asks for a GPU).
Inference: model_id -> spec.model.source (a URI, else the training job's name),
input_data -> spec.input.records, parameters -> spec.model.hyperparameters.
The seed's request is kept in an annotation so the status shows it back as the
seed's `metadata`.
"""

from __future__ import annotations

import json
import posixpath
import re
from datetime import datetime
from typing import Any, Final

from aijob_api.conditions import Phase
from aijob_api.constants import ANNOTATION_DESCRIPTION, GROUP
from aijob_api.contract import ARTIFACTS_MOUNT_PATH
from aijob_api.models import DNS_LABEL_PATTERN, MODEL_TYPE_PATTERN, AIJob, AIJobSpec, Task
from aijob_api.routing import Framework
from pydantic import ValidationError

from aijob_gateway.errors import FieldError, InvalidRequestError
from aijob_gateway.schemas.compat import (
    SeedInferenceRequest,
    SeedJobStatus,
    SeedStatus,
    SeedTrainingRequest,
)
from aijob_gateway.services.jobs import NewJob
from aijob_gateway.services.listing import job_framework, job_phase

ANNOTATION_SEED_REQUEST: Final = f"{GROUP}/seed-request"
"""The seed-shaped request a job was submitted with (JSON), shown back as `metadata`."""
MAX_SEED_ANNOTATION_CHARS: Final = 32_768
DEFAULT_INFERENCE_MODEL_TYPE: Final = "transformer"
"""Model type of an inference job whose model_id names no visible training job; it routes
to PyTorch, where the seed's inference queue sent everything by default."""

_SEED_STATUS: Final[dict[Phase, SeedStatus]] = {
    Phase.PENDING: "pending",
    Phase.QUEUED: "pending",
    Phase.RETRYING: "running",
    Phase.RUNNING: "running",
    Phase.SUCCEEDED: "completed",
    Phase.FAILED: "failed",
    Phase.CANCELLED: "cancelled",
}
_URI: Final = re.compile(r"^(file|s3)://.+")

# Where a field of the AIJob spec came from in the seed's training and inference requests.
_TRAINING_FIELDS: Final = {
    "model.type": "model_type",
    "model.hyperparameters": "hyperparameters",
    "dataset": "data_path",
    "framework": "framework_override",
    "resources": "requires_gpu",
}
_INFERENCE_FIELDS: Final = {
    "model.type": "model_type",
    "model.hyperparameters": "parameters",
    "model.source": "model_id",
    "model": "model_id",
    "input": "input_data",
}


def seed_status(phase: Phase) -> SeedStatus:
    """The seed's lowercase status of a phase."""
    return _SEED_STATUS[phase]


def tenant_store_path(namespace: str) -> str:
    """The directory of a namespace's store as worker pods see it (their models go there too)."""
    return f"{ARTIFACTS_MOUNT_PATH}/{namespace}/"


def training_dataset(data_path: str, namespace: str) -> dict[str, str]:
    """data_path as spec.dataset, refused (naming what to send) when the pod cannot read it.

    A bundled data set's name (`iris`) becomes `name`; an `s3://` URI is kept; a
    `file://` URI or an absolute path is kept only inside the namespace's store (the one
    directory of files a worker pod mounts, and no other tenant's), so the seed's
    `/data/train.csv` is refused at submit instead of failing in the pod.
    """
    if re.fullmatch(MODEL_TYPE_PATTERN, data_path):
        return {"name": data_path}
    if data_path.startswith("s3://") and len(data_path) > len("s3://"):
        return {"uri": data_path}
    store = tenant_store_path(namespace)
    path = data_path.removeprefix("file://") if data_path.startswith("file:///") else data_path
    if path.startswith("/") and posixpath.normpath(path).startswith(store):
        return {"uri": "file://" + posixpath.normpath(path)}
    raise InvalidRequestError(
        f"data_path: {data_path!r} is not a file the job's pod can read; send a bundled "
        "data set's name (iris, digits, wine, breast_cancer; sentiment for text) or a data "
        f"file (.csv, .parquet, .jsonl) in this namespace's store, file://{store}<path> "
        "(where its models are written too)",
        field="data_path",
    )


def parse_framework_override(value: str) -> tuple[Framework, bool]:
    """`pytorch-2.1-gpu` -> (pytorch, True); the version part is not used."""
    text = value.strip().lower()
    gpu = text.endswith("-gpu")
    if gpu:
        text = text[: -len("-gpu")]
    name = text.split("-", 1)[0]
    try:
        return Framework(name), gpu
    except ValueError:
        accepted = ", ".join(f.value for f in Framework)
        raise InvalidRequestError(
            f"framework_override: {value!r} names no framework; use one of {accepted} "
            "(optionally with a version and -gpu, e.g. pytorch-2.1-gpu)",
            field="framework_override",
        ) from None


def model_source(model_id: str) -> dict[str, str]:
    """model_id as spec.model.source: a URI, else the name of a training job."""
    if _URI.match(model_id):
        return {"uri": model_id}
    if re.fullmatch(DNS_LABEL_PATTERN, model_id) and len(model_id) <= 63:
        return {"trainingJob": model_id}
    name = re.sub(r"[^a-z0-9-]+", "-", model_id.lower()).strip("-")[:63].strip("-")
    if not name:
        raise InvalidRequestError(
            "model_id: give a training job's job_id or a file:// or s3:// model URI",
            field="model_id",
        )
    return {"trainingJob": name}


def _spec(document: dict[str, Any], field_map: dict[str, str]) -> AIJobSpec:
    try:
        return AIJobSpec.model_validate(document)
    except ValidationError as error:
        errors = []
        for item in error.errors():
            path = ".".join(str(part) for part in item["loc"])
            seed_field = next(
                (seed for spec_path, seed in field_map.items() if path.startswith(spec_path)),
                path or "body",
            )
            errors.append(FieldError(field=seed_field, message=item["msg"]))
        first = errors[0]
        raise InvalidRequestError(
            f"{first.field}: {first.message}", field=first.field, errors=errors
        ) from error


def _seed_annotation(request: SeedTrainingRequest | SeedInferenceRequest) -> dict[str, str]:
    document = request.model_dump(mode="json", exclude_none=True, exclude={"client_request_id"})
    text = json.dumps(document, sort_keys=True)
    if len(text) > MAX_SEED_ANNOTATION_CHARS:
        document.pop("input_data", None)
        document["input_data_omitted"] = True
        text = json.dumps(document, sort_keys=True)
    return {ANNOTATION_SEED_REQUEST: text}


def training_job(
    request: SeedTrainingRequest, client_request_id: str | None, namespace: str
) -> NewJob:
    """The AIJob submission of a seed training request in the tenant's `namespace`."""
    model_type = request.model_type.strip().lower()
    if not re.fullmatch(MODEL_TYPE_PATTERN, model_type):
        raise InvalidRequestError(
            "model_type: use lowercase letters, digits and underscores (e.g. random_forest)",
            field="model_type",
        )
    document: dict[str, Any] = {
        "task": Task.TRAINING.value,
        "model": {"type": model_type, "hyperparameters": request.hyperparameters or {}},
        "dataset": training_dataset(request.data_path, namespace),
    }
    gpu = bool(request.requires_gpu)
    if request.framework_override:
        framework, wants_gpu = parse_framework_override(request.framework_override)
        document["framework"] = framework.value
        gpu = gpu or wants_gpu
    if gpu:
        document["resources"] = {"gpu": 1}
    return NewJob(
        spec=_spec(document, _TRAINING_FIELDS),
        client_request_id=client_request_id,
        description=request.description,
        annotations=_seed_annotation(request),
    )


def inference_job(
    request: SeedInferenceRequest, client_request_id: str | None, training: AIJob | None
) -> NewJob:
    """The AIJob submission of a seed inference request (`training`: the job model_id names)."""
    source = model_source(request.model_id)
    model_type = (
        request.model_type
        or (training.spec.model.type if training is not None else None)
        or DEFAULT_INFERENCE_MODEL_TYPE
    )
    document: dict[str, Any] = {
        "task": Task.INFERENCE.value,
        "model": {
            "type": model_type.strip().lower(),
            "hyperparameters": request.parameters or {},
            "source": source,
        },
        "input": {"records": request.records()},
    }
    if training is not None and "trainingJob" in source:
        document["framework"] = job_framework(training).value
    return NewJob(
        spec=_spec(document, _INFERENCE_FIELDS),
        client_request_id=client_request_id,
        annotations=_seed_annotation(request),
    )


def _updated_at(job: AIJob) -> datetime | None:
    status = job.status
    moments = [
        status.completion_time,
        status.start_time,
        status.progress.updated_at if status.progress else None,
        *(condition.last_transition_time for condition in status.conditions),
    ]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else job.metadata.creation_timestamp


def _metadata(job: AIJob) -> dict[str, Any]:
    stored = job.metadata.annotations.get(ANNOTATION_SEED_REQUEST)
    if stored:
        try:
            document = json.loads(stored)
            if isinstance(document, dict):
                return document
        except ValueError:
            pass
    spec = job.spec
    metadata: dict[str, Any] = {"model_type": spec.model.type}
    if spec.model.hyperparameters:
        metadata["hyperparameters"] = spec.model.hyperparameters
    if spec.dataset is not None:
        metadata["data_path"] = spec.dataset.uri or spec.dataset.name
    if spec.model.source is not None:
        metadata["model_id"] = spec.model.source.training_job or spec.model.source.uri
    description = job.metadata.annotations.get(ANNOTATION_DESCRIPTION)
    if description:
        metadata["description"] = description
    metadata["requires_gpu"] = spec.resources.gpu > 0
    return metadata


def _result(job: AIJob, framework: str) -> dict[str, Any] | None:
    results = job.status.results
    if results is None:
        return None
    result: dict[str, Any] = {"framework": framework, "metrics": results.metrics}
    if job.spec.task is Task.TRAINING:
        result["model_id"] = job.metadata.name
        result["model_path"] = results.model_uri
    else:
        result["predictions"] = results.outputs
        result["output_uri"] = results.output_uri
    if results.timings is not None:
        result["timing"] = results.timings.model_dump(exclude_none=True)
    if results.device:
        result["device"] = results.device
    return result


def seed_job_status(job: AIJob) -> SeedJobStatus:
    """An AIJob in the seed's JobStatus shape."""
    phase = job_phase(job)
    framework = job_framework(job).value
    created = job.metadata.creation_timestamp or datetime.fromtimestamp(0).astimezone()
    progress = job.status.progress
    error = None
    if phase is Phase.FAILED:
        error = job.status.message or "Job failed"
    elif phase is Phase.CANCELLED:
        error = job.status.message or "Job cancelled by user"
    return SeedJobStatus(
        job_id=job.metadata.name or "",
        job_type=job.spec.task.value,
        status=seed_status(phase),
        created_at=created,
        updated_at=_updated_at(job) or created,
        progress=(progress.percent / 100) if progress and progress.percent is not None else None,
        result=_result(job, framework),
        error=error,
        metadata=_metadata(job),
        framework=framework,
        worker_type=framework + ("-gpu" if job.spec.resources.gpu else ""),
    )
