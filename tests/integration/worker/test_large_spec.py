"""1,000 inline records of 200 characters or more: accepted, carried by the Job, run.

More than one environment variable may hold (128 KiB), so the spec travels as the
pod template's annotation and reaches the worker as a file. The API server takes the
AIJob and the operator's Job (created suspended: no pod), and the worker runs the
records from the annotation's text exactly as the downwardAPI volume would hold it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from aijob_api import contract
from aijob_kube.resources import AIJobResource
from aijob_operator.builders.job import PodSettings, build_job
from aijob_operator.catalog import load_catalog
from lightkube import Client
from lightkube.resources.batch_v1 import Job

from tests.integration.worker.support import create_aijob, read_aijob, worker, worker_env
from tests.support.eventually import Timeout

WINE_ROW = [13.2, 1.78, 2.14, 11.2, 100.0, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050.0]
"""A row of the wine data set (13 features), varied below into long-written records."""


def long_records(count: int) -> list[list[float]]:
    """`count` wine-like rows whose JSON is at least 200 characters each."""
    chance = random.Random(7)
    records = []
    for _ in range(count):
        row = [round(value * (1 + chance.uniform(-0.05, 0.05)), 13) for value in WINE_ROW]
        assert len(json.dumps(row, separators=(",", ":"))) >= 200
        records.append(row)
    return records


def test_a_thousand_records_of_200_characters_run_through_the_job_and_the_worker(
    kube: Client, namespace: str, kubeconfig: Path, workdir: Path
) -> None:
    training = create_aijob(
        kube,
        namespace,
        "wine-model",
        {"task": "training", "model": {"type": "logistic_regression"}, "dataset": {"name": "wine"}},
    )
    with worker("sklearn", worker_env(training, workdir, kubeconfig), workdir / "t.log") as run:
        assert run.wait(timeout=Timeout.REAL_TRAINING) == 0, run.output()[-3000:]
    trained = read_aijob(kube, namespace, "wine-model").status.results
    assert trained is not None
    assert trained.model_uri is not None

    records = long_records(1000)
    spec = {
        "task": "inference",
        "model": {"type": "logistic_regression", "source": {"uri": trained.model_uri}},
        "input": {"records": records, "batchSize": 100},
    }
    assert len(json.dumps(spec)) > 200_000 > 128 * 1024
    inference = create_aijob(kube, namespace, "wine-thousand", spec)

    # The operator's Job for it, as the API server stores it (suspended: no pod).
    catalog = load_catalog()
    runtime = catalog.resolve(inference.spec.resolved_framework, inference.spec.framework_version)
    job = build_job(inference, runtime, PodSettings())
    assert job.spec is not None
    job.spec.suspend = True
    kube.create(job, namespace=namespace)
    stored = kube.get(Job, "wine-thousand", namespace=namespace)
    assert stored.spec is not None
    assert stored.spec.template.metadata is not None
    annotations = stored.spec.template.metadata.annotations or {}
    carried = annotations[contract.SPEC_ANNOTATION]
    assert json.loads(carried)["input"]["records"] == records
    spec_file = workdir / "downward-api" / contract.SPEC_FILE_NAME
    spec_file.parent.mkdir()
    spec_file.write_text(carried, encoding="utf-8")

    env = worker_env(inference, workdir, kubeconfig, AIJOB_SPEC_FILE=str(spec_file))
    with worker("sklearn", env, workdir / "i.log") as run:
        assert run.wait(timeout=Timeout.REAL_TRAINING) == 0, run.output()[-3000:]

    results = read_aijob(kube, namespace, "wine-thousand").status.results
    assert results is not None
    assert results.metrics["records"] == 1000
    assert results.outputs is None, "more than 100 records: the outputs are in the file"
    assert results.results_uri is None, "the rest fits the status"
    assert results.output_uri is not None
    lines = Path(results.output_uri.removeprefix("file://")).read_text().splitlines()
    assert len(lines) == 1000
    assert {json.loads(line)["prediction"] for line in lines} <= {
        "class_0",
        "class_1",
        "class_2",
    }
    kube.delete(AIJobResource, "wine-thousand", namespace=namespace)
