"""An inference job runs on the model its training job produced, found through the API."""

from __future__ import annotations

from pathlib import Path

from lightkube import Client

from tests.integration.worker.support import create_aijob, read_aijob, worker, worker_env
from tests.support.eventually import Timeout


def test_inference_uses_the_model_of_a_finished_training_job(
    kube: Client, namespace: str, kubeconfig: Path, workdir: Path
) -> None:
    training = create_aijob(
        kube,
        namespace,
        "iris-forest",
        {
            "task": "training",
            "model": {"type": "random_forest", "hyperparameters": {"nEstimators": 30}},
            "dataset": {"name": "iris"},
        },
    )
    with worker("sklearn", worker_env(training, workdir, kubeconfig), workdir / "t.log") as run:
        assert run.wait(timeout=Timeout.REAL_TRAINING) == 0, run.output()[-3000:]
    trained = read_aijob(kube, namespace, "iris-forest").status.results
    assert trained is not None

    inference = create_aijob(
        kube,
        namespace,
        "iris-predict",
        {
            "task": "inference",
            "model": {"type": "random_forest", "source": {"trainingJob": "iris-forest"}},
            "input": {"records": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.1, 5.6, 2.4]], "batchSize": 1},
        },
    )
    # No AIJOB_MODEL_URI: the worker reads the training job's status.results.modelUri itself.
    env = worker_env(inference, workdir, kubeconfig)
    with worker("sklearn", env, workdir / "i.log") as run:
        assert run.wait(timeout=Timeout.REAL_TRAINING) == 0, run.output()[-3000:]

    results = read_aijob(kube, namespace, "iris-predict").status.results
    assert results is not None
    assert results.model_uri == trained.model_uri
    assert results.outputs is not None
    assert [output["prediction"] for output in results.outputs] == ["setosa", "virginica"]
    assert results.timings is not None
    assert results.timings.prepare_ms is not None
    assert results.timings.infer_ms is not None
    assert results.timings.upload_ms is not None
    assert (
        results.output_uri == f"file://{workdir}/artifacts/iris-predict/outputs/predictions.jsonl"
    )
