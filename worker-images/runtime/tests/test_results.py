"""Results too large for the status: written whole, the status keeps what fits and a pointer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from aijob_api.status import MAX_STATUS_RESULTS_BYTES, Artifact, Results

from aijob_worker.results import fit_results, results_bytes


def artifact(index: int) -> Artifact:
    return Artifact(
        name=f"model/part-{index}", uri=f"file:///a/model/part-{index}", sha256="0" * 64
    )


def test_small_results_are_left_as_they_are(tmp_path: Path) -> None:
    results = Results(metrics={"accuracy": 0.9}, outputs=[{"prediction": "a"}])
    assert fit_results(results, f"file://{tmp_path}/job", tmp_path) is results
    assert not (tmp_path / "job").exists()


def test_large_outputs_go_to_the_store_and_the_status_names_the_file(tmp_path: Path) -> None:
    outputs = [{"text": f"{index:03d}" + "z" * 997} for index in range(100)]  # about 100 KB
    results = Results(
        metrics={"records": 100.0}, outputs=outputs, output_uri="file:///o", device="cpu"
    )
    assert results_bytes(results) > MAX_STATUS_RESULTS_BYTES
    summary = fit_results(results, f"file://{tmp_path}/job", tmp_path / "work")
    assert results_bytes(summary) <= MAX_STATUS_RESULTS_BYTES
    assert summary.outputs is None
    assert summary.metrics == {"records": 100.0}
    assert summary.output_uri == "file:///o"
    assert summary.results_uri == f"file://{tmp_path}/job/results.json"
    stored = tmp_path / "job" / "results.json"
    assert Results.model_validate(json.loads(stored.read_text())) == results
    (pointer,) = summary.artifacts
    assert pointer.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert pointer.size_bytes == stored.stat().st_size


def test_when_outputs_are_not_enough_artifacts_then_metrics_are_left_out(tmp_path: Path) -> None:
    results = Results(
        metrics={f"metric-{index:05d}": float(index) for index in range(3000)},
        artifacts=[artifact(index) for index in range(64)],
    )
    summary = fit_results(results, f"file://{tmp_path}/job", tmp_path, limit=4096)
    assert results_bytes(summary) <= 4096
    assert summary.metrics == {}
    assert [item.name for item in summary.artifacts] == ["results.json"]
    stored = json.loads((tmp_path / "job" / "results.json").read_text())
    assert len(stored["metrics"]) == 3000
    assert len(stored["artifacts"]) == 64


def test_artifacts_are_kept_when_leaving_out_the_outputs_is_enough(tmp_path: Path) -> None:
    results = Results(
        outputs=["x" * 5000], artifacts=[artifact(0), artifact(1)], metrics={"loss": 0.1}
    )
    summary = fit_results(results, f"file://{tmp_path}/job", tmp_path, limit=2048)
    assert [item.name for item in summary.artifacts] == [
        "model/part-0",
        "model/part-1",
        "results.json",
    ]
    assert summary.metrics == {"loss": 0.1}
