"""Status writes that fail while the API server is unreachable are retried; training goes on."""

from __future__ import annotations

from pathlib import Path

from lightkube import Client

from tests.integration.worker.support import (
    TcpProxy,
    WorkerEndedError,
    create_aijob,
    kubeconfig_through,
    read_aijob,
    upstream_of,
    worker,
    worker_env,
)
from tests.support.eventually import Timeout, eventually


def test_training_survives_an_api_outage_and_reports_after_it(
    kube: Client, namespace: str, kubeconfig: Path, workdir: Path
) -> None:
    proxy = TcpProxy(*upstream_of(kubeconfig))
    proxy.start()
    job = create_aijob(
        kube,
        namespace,
        "outage",
        {
            "task": "training",
            "model": {
                "type": "random_forest",
                "hyperparameters": {"nEstimators": 600, "epochs": 120},
            },
            "dataset": {"name": "digits"},
        },
    )
    proxied = kubeconfig_through(kubeconfig, proxy.port, workdir / "kubeconfig")
    try:
        with worker("sklearn", worker_env(job, workdir, proxied), workdir / "w.log") as run:

            def progress_reported() -> bool:
                if not run.running():
                    raise WorkerEndedError(run.output()[-3000:])
                progress = read_aijob(kube, namespace, "outage").status.progress
                return progress is not None and (progress.epoch or 0) >= 1

            eventually(progress_reported, timeout=Timeout.REAL_TRAINING, what="first progress")
            proxy.stop()

            def a_write_failed() -> bool:
                if not run.running():
                    raise WorkerEndedError(run.output()[-3000:])
                return any(
                    str(event.get("message", "")).startswith("status write failed")
                    for event in run.events()
                )

            eventually(a_write_failed, timeout=Timeout.REAL_TRAINING, what="a failed write")
            # The API server comes back: the writes, retried, land (results included).
            proxy.start()
            assert run.wait(timeout=Timeout.REAL_TRAINING) == 0, run.output()[-3000:]
            epochs = run.epochs()
    finally:
        proxy.stop()

    assert epochs == list(range(1, 121))  # training went on through the outage
    status = read_aijob(kube, namespace, "outage").status
    assert status.results is not None
    assert status.results.metrics["epochsThisAttempt"] == 120
    assert status.progress is not None
    assert status.progress.percent == 100
