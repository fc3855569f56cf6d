"""Bad hyperparameters: exit 65, the field named in the termination message and the status."""

from __future__ import annotations

from pathlib import Path

from lightkube import Client

from tests.integration.worker.support import create_aijob, read_aijob, worker, worker_env
from tests.support.eventually import Timeout


def test_bad_hyperparameters_exit_65_with_a_clear_message(
    kube: Client, namespace: str, kubeconfig: Path, workdir: Path
) -> None:
    job = create_aijob(
        kube,
        namespace,
        "bad-forest",
        {
            "task": "training",
            "model": {"type": "random_forest", "hyperparameters": {"maxDepth": 0}},
            "dataset": {"name": "iris"},
        },
    )
    env = worker_env(job, workdir, kubeconfig)
    with worker("sklearn", env, workdir / "worker.log") as run:
        assert run.wait(timeout=Timeout.REAL_TRAINING) == 65

    message = "spec.model.hyperparameters.maxDepth: Input should be greater than or equal to 1"
    assert (workdir / "bad-forest.termination-log").read_text() == f"bad input: {message}"
    assert message in run.output()
    progress = read_aijob(kube, namespace, "bad-forest").status.progress
    assert progress is not None
    assert progress.stage == f"failed: {message}"
