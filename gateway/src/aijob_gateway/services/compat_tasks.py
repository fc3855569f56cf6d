"""Mapping between seed 003's inference server tasks and jobs on endpoints (pure: no I/O).

`model` → the key's endpoint of that name, else the one whose `spec.taskType` it is;
`input` → records: a list of lists or objects is many records, anything else (an
object, a text, a list of feature values) is one; `priority` → `spec.priority`;
`client_request_id` → the job service's idempotency. The task is an inference AIJob
on the endpoint (`task_id` is its name); its status in Celery's words, its timing from
the replicas' stage timings (`upload_ms` is their postprocess: turning outputs into
results), its result the one output (one record) or the list of them. Where the outputs
were written to the tenant's store (s3 mode: `results.outputUri` below the job's prefix),
the result has the seed's shape: `{"s3_key", "bucket", "url", "sha256", "output"}`,
`s3_key` the object's key in the tenant's bucket, `url` the gateway route that downloads
it, `output` the inline result while the status holds it.
"""

from __future__ import annotations

import json
from typing import Any, Final
from urllib.parse import urlsplit

from aijob_api.conditions import Phase
from aijob_api.models import AIJob, Results
from aijob_api.storage import JOBS_PREFIX, artifact_path_problem
from pydantic import JsonValue

from aijob_gateway.schemas.compat_tasks import TaskState, TaskTiming, TaskView
from aijob_gateway.services.compat import ANNOTATION_SEED_REQUEST
from aijob_gateway.services.listing import job_phase

_STATE: Final[dict[Phase, TaskState]] = {
    Phase.PENDING: "PENDING",
    Phase.QUEUED: "PENDING",
    Phase.RUNNING: "RUNNING",
    Phase.RETRYING: "RUNNING",
    Phase.SUCCEEDED: "SUCCESS",
    Phase.FAILED: "FAILURE",
    Phase.CANCELLED: "REVOKED",
}


def task_records(value: JsonValue) -> tuple[list[JsonValue], bool]:
    """The records of a task's input, and whether it was one record (see the docstring)."""
    if isinstance(value, list) and value and all(isinstance(item, list | dict) for item in value):
        return list(value), False
    return [value], True


def task_annotation(model: str, single: bool) -> dict[str, str]:
    """What a task keeps on its AIJob: the model asked for, and whether it was one record."""
    document = {"model": model, "single": single}
    return {ANNOTATION_SEED_REQUEST: json.dumps(document, separators=(",", ":"))}


def task_state(job: AIJob) -> TaskState:
    """The job's phase in Celery's words."""
    return _STATE[job_phase(job)]


def task_view(job: AIJob) -> TaskView:
    """`GET /v1/tasks/{task_id}`."""
    status = job.status
    view = TaskView(task_id=job.metadata.name or "", status=task_state(job))
    results = status.results
    timings = results.timings if results is not None else None
    if timings is not None:
        view.timing = TaskTiming(
            prepare_ms=timings.prepare_ms,
            infer_ms=timings.infer_ms,
            upload_ms=timings.upload_ms
            if timings.upload_ms is not None
            else timings.postprocess_ms,
        )
    if view.status in ("FAILURE", "REVOKED"):
        view.error = status.message or status.reason
    if view.status == "SUCCESS" and results is not None:
        outputs: list[Any] = list(results.outputs or [])
        single = bool(_request(job).get("single", len(outputs) == 1))
        inline = outputs[0] if single and outputs else outputs
        stored = stored_result(job, results)
        if stored is None:
            view.result = inline
        else:
            if results.outputs is not None:
                stored["output"] = inline
            view.result = stored
    return view


def stored_result(job: AIJob, results: Results) -> dict[str, JsonValue] | None:
    """The seed's `{"s3_key", "bucket", "url", "sha256"}` of outputs written below the job's
    prefix of its tenant's bucket (`results.outputUri`), or None."""
    name = job.metadata.name or ""
    uri = results.output_uri or ""
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    prefix = f"{JOBS_PREFIX}/{name}/"
    if parts.scheme != "s3" or not name or not key.startswith(prefix):
        return None
    path = key[len(prefix) :]
    if artifact_path_problem(path) is not None:
        return None
    sha256 = next((item.sha256 for item in results.artifacts if item.uri == uri), None)
    return {
        "s3_key": key,
        "bucket": parts.netloc,
        "url": f"/v1/jobs/{name}/artifacts/{path}",
        "sha256": sha256,
    }


def _request(job: AIJob) -> dict[str, Any]:
    raw = job.metadata.annotations.get(ANNOTATION_SEED_REQUEST)
    try:
        document = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
