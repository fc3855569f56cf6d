"""Each framework's worker reports progress into a real AIJob while it trains, then results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lightkube import Client

from tests.integration.worker.support import (
    WorkerEndedError,
    create_aijob,
    read_aijob,
    worker,
    worker_env,
)
from tests.support.eventually import Timeout, eventually

CASES = [
    # framework, spec, accuracy floor
    (
        "sklearn",
        {
            "model": {
                "type": "random_forest",
                "hyperparameters": {"nEstimators": 240, "epochs": 40},
            },
            "dataset": {"name": "digits"},
        },
        0.93,
    ),
    (
        "pytorch",
        {
            "model": {"type": "mlp", "hyperparameters": {"epochs": 25, "batchSize": 8}},
            "dataset": {"name": "digits"},
        },
        0.94,
    ),
    (
        "tensorflow",
        {
            "model": {"type": "keras_dense", "hyperparameters": {"epochs": 25, "batchSize": 8}},
            "dataset": {"name": "breast_cancer"},
        },
        0.93,
    ),
]


@pytest.mark.parametrize(("framework", "spec", "floor"), CASES, ids=[c[0] for c in CASES])
def test_progress_moves_while_training_and_results_land(
    kube: Client,
    namespace: str,
    kubeconfig: Path,
    workdir: Path,
    framework: str,
    spec: dict[str, Any],
    floor: float,
) -> None:
    job = create_aijob(kube, namespace, f"train-{framework}", {"task": "training", **spec})
    seen: set[int] = set()

    with worker(framework, worker_env(job, workdir, kubeconfig), workdir / "worker.log") as run:

        def progress_in_the_middle() -> bool:
            if not run.running():
                raise WorkerEndedError(f"the worker ended early:\n{run.output()[-3000:]}")
            progress = read_aijob(kube, namespace, job.metadata.name or "").status.progress
            if progress is not None and progress.percent is not None:
                seen.add(progress.percent)
            return len({percent for percent in seen if 0 < percent < 100}) >= 2

        eventually(
            progress_in_the_middle,
            timeout=Timeout.REAL_TRAINING,
            interval=0.2,
            what="two different progress values below 100% in the AIJob's status",
        )
        code = run.wait(timeout=Timeout.REAL_TRAINING)
        assert code == 0, run.output()[-3000:]

    status = read_aijob(kube, namespace, job.metadata.name or "").status
    assert status.progress is not None
    assert status.progress.percent == 100
    assert status.progress.stage == "succeeded"
    assert status.progress.updated_at is not None
    assert status.results is not None
    assert status.results.metrics["accuracy"] >= floor
    assert status.results.model_uri == f"file://{workdir}/artifacts/{job.metadata.name}/model"
    assert status.results.device == "cpu"
    assert status.results.timings is not None
    assert status.results.timings.train_ms is not None
    assert all(artifact.sha256 for artifact in status.results.artifacts)
    # The worker writes only its own parts of the status.
    assert status.phase is None
    assert status.conditions == []
