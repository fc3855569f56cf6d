"""Results that fit the status: too large ones are written whole to the artifact store.

The status is read by every `kubectl get`, watch and gateway request, and the API server
refuses an object past its size limit, so `status.results` is bounded
(`aijob_api.status.MAX_STATUS_RESULTS_BYTES`, as compact JSON). Larger results (many or
large inline outputs, many metrics) go whole to `<artifact URI>/results.json`, listed
among the artifacts with its SHA-256; the status keeps what fits and names the file in
`results.resultsUri`. What is left out, in order: the inline outputs (every output is in
`outputUri` too), the other artifacts, the metrics.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from aijob_api.status import MAX_STATUS_RESULTS_BYTES, RESULTS_FILE, Artifact, Results

from aijob_worker.storage import join_uri, storage_for

logger = logging.getLogger(__name__)

MAX_ARTIFACTS = 64
"""The status holds at most this many artifacts (the schema's bound)."""


def results_document(results: Results) -> dict[str, Any]:
    """The results as the status holds them (camelCase, no nulls)."""
    return results.model_dump(mode="json", by_alias=True, exclude_none=True)


def results_bytes(results: Results) -> int:
    """Size of the results in the status, as compact JSON."""
    return len(json.dumps(results_document(results), separators=(",", ":")).encode())


def fit_results(
    results: Results, artifact_uri: str, work_dir: Path, *, limit: int | None = None
) -> Results:
    """`results` when they fit the status (`limit` bytes, the status' bound by default); else
    a summary naming the file that holds them whole."""
    limit = MAX_STATUS_RESULTS_BYTES if limit is None else limit
    size = results_bytes(results)
    if size <= limit:
        return results
    uri = join_uri(artifact_uri, RESULTS_FILE)
    work_dir.mkdir(parents=True, exist_ok=True)
    local = work_dir / RESULTS_FILE
    local.write_text(json.dumps(results_document(results), indent=1), encoding="utf-8")
    stored = storage_for(uri).put_file(local, uri)
    pointer = Artifact(
        name=RESULTS_FILE, uri=stored.uri, sha256=stored.sha256, size_bytes=stored.size_bytes
    )
    summary = results.model_copy(update={"outputs": None, "results_uri": uri})
    if len(results.artifacts) < MAX_ARTIFACTS:
        summary = summary.model_copy(update={"artifacts": [*results.artifacts, pointer]})
    else:
        summary = summary.model_copy(update={"artifacts": [pointer]})
    for left_out in ({}, {"artifacts": [pointer]}, {"artifacts": [pointer], "metrics": {}}):
        summary = summary.model_copy(update=left_out)
        if results_bytes(summary) <= limit:
            break
    logger.info(
        "results too large for the status, written whole",
        extra={"event": "results_file", "uri": uri, "bytes": size, "limit": limit},
    )
    return summary
