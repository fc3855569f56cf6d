"""SIGTERM mid-training: a checkpoint in the AIJob's status, exit 143; the next run resumes,
continuing the metric history the first one left."""

from __future__ import annotations

import signal
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
    (
        "sklearn",
        {
            "model": {
                "type": "random_forest",
                "hyperparameters": {"nEstimators": 240, "epochs": 40},
            },
            "dataset": {"name": "digits"},
        },
        40,
    ),
    (
        "pytorch",
        {
            "model": {"type": "mlp", "hyperparameters": {"epochs": 30, "batchSize": 8}},
            "dataset": {"name": "digits"},
        },
        30,
    ),
]


@pytest.mark.parametrize(("framework", "spec", "epochs"), CASES, ids=[c[0] for c in CASES])
def test_sigterm_saves_a_checkpoint_and_the_next_attempt_resumes_from_it(
    kube: Client,
    namespace: str,
    kubeconfig: Path,
    workdir: Path,
    framework: str,
    spec: dict[str, Any],
    epochs: int,
) -> None:
    job = create_aijob(kube, namespace, f"resume-{framework}", {"task": "training", **spec})
    name = job.metadata.name or ""
    env = worker_env(job, workdir, kubeconfig)

    with worker(framework, env, workdir / "first.log") as first:

        def an_epoch_is_reported() -> bool:
            if not first.running():
                raise WorkerEndedError(f"the worker ended early:\n{first.output()[-3000:]}")
            progress = read_aijob(kube, namespace, name).status.progress
            return progress is not None and (progress.epoch or 0) >= 1

        eventually(
            an_epoch_is_reported,
            timeout=Timeout.REAL_TRAINING,
            what="the first epoch in the AIJob's progress",
        )
        first.process.send_signal(signal.SIGTERM)
        assert first.wait(timeout=Timeout.REAL_TRAINING) == 143, first.output()[-3000:]

    status = read_aijob(kube, namespace, name).status
    assert status.checkpoint is not None
    done = status.checkpoint.epoch
    assert done is not None
    assert 1 <= done < epochs
    assert status.checkpoint.uri.startswith(f"file://{workdir}/artifacts/{name}/checkpoints/")
    assert status.checkpoint.saved_at is not None
    assert status.results is None
    assert status.progress is not None
    assert status.progress.stage == "interrupted: checkpoint saved"
    first_history = status.metric_history
    assert first_history is not None
    assert [len(series.x) for series in first_history.series] == [done] * len(first_history.series)
    termination = (workdir / f"{name}.termination-log").read_text()
    assert termination.startswith(
        f"stopped by SIGTERM; checkpoint saved at {status.checkpoint.uri}"
    )

    with worker(framework, env, workdir / "second.log") as second:
        assert second.wait(timeout=Timeout.REAL_TRAINING) == 0, second.output()[-3000:]
        # Only the epochs after the checkpoint ran in the second attempt.
        assert second.epochs() == list(range(done + 1, epochs + 1))

    final = read_aijob(kube, namespace, name).status
    results = final.results
    assert results is not None
    # The history goes on from the first attempt's points: one per epoch, none repeated.
    assert final.metric_history is not None
    assert final.metric_history.started_at == first_history.started_at
    assert [s.name for s in final.metric_history.series] == [s.name for s in first_history.series]
    for before, after in zip(first_history.series, final.metric_history.series, strict=True):
        assert len(after.x) == epochs
        assert after.x[:done] == before.x
        assert after.values[:done] == before.values
    assert results.metrics["resumedFromEpoch"] == done
    assert results.metrics["epochsThisAttempt"] == epochs - done
    assert results.metrics["accuracy"] >= 0.93
