"""The examples/ manifests, applied exactly, run to Succeeded with `kubectl get aijobs` filled."""

from __future__ import annotations

import pytest
from aijob_api import contract
from aijob_api.conditions import Phase
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.resources.core_v1 import Node

from tests.integration.operator.support import AIJobs
from tests.support.eventually import Timeout
from tests.support.kubectl import kubectl

TRAINING_EXAMPLES = {
    "train-sklearn.yaml": ("iris-forest", "sklearn", "0", "normal"),
    "train-pytorch.yaml": ("digits-mlp", "pytorch", "0", "normal"),
    "train-gpu.yaml": ("digits-cnn-gpu", "pytorch", "2", "high"),
    "train-tensorflow.yaml": ("digits-keras", "tensorflow", "0", "normal"),
    "train-text.yaml": ("reviews-distilbert", "transformers", "0", "normal"),
}


@pytest.mark.usefixtures("operator")
def test_training_examples_succeed_and_fill_the_columns(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    for file_name in TRAINING_EXAMPLES:
        aijobs.apply_example(file_name)
    for name, *_ in TRAINING_EXAMPLES.values():
        aijobs.wait_phase(name, Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)

    gpu_job = aijobs.get("digits-cnn-gpu")
    assert gpu_job.status.node_name is not None
    node = kube.get(Node, gpu_job.status.node_name)
    assert node.metadata is not None
    assert (node.metadata.labels or {}).get("aijob.dev/gpu-node") == "true"

    table = kubectl("get", "aijobs", "-n", namespace, "--no-headers").stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in table}
    for name, framework, gpus, priority in TRAINING_EXAMPLES.values():
        # NAME TASK FRAMEWORK PHASE PROGRESS GPUS PRIORITY ATTEMPTS AGE
        assert rows[name][1:8] == ["training", framework, "Succeeded", "100", gpus, priority, "1"]
    wide = kubectl("get", "aijobs", "-n", namespace, "-o", "wide").stdout
    assert "kwok-gpu-" in wide
    assert "the worker finished" in wide


def test_inference_example_runs_on_the_trained_model(operator: KopfRunner, aijobs: AIJobs) -> None:
    aijobs.apply_example("train-sklearn.yaml")
    aijobs.wait_phase("iris-forest", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    # KWOK runs no worker: write the results a real worker writes before it exits.
    model_uri = f"file://{contract.ARTIFACTS_MOUNT_PATH}/{aijobs.namespace}/iris-forest/model"
    aijobs.patch_status("iris-forest", {"results": {"modelUri": model_uri}})

    aijobs.apply_example("inference-sklearn.yaml")
    done = aijobs.wait_phase("iris-forest-predict", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    assert done.status.framework == "sklearn"
    env = aijobs.worker_env("iris-forest-predict")
    assert env[contract.ENV_MODEL_URI] == model_uri
