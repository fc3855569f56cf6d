"""Jobs on endpoints against the real API server: an inference AIJob naming an AIEndpoint runs on
its warm replicas (no Job, no pod), survives an operator killed mid-run, is cancelled, waits
for a missing or unready endpoint (bounded), and fails a bad record naming it.

The replica is the real model server (`aijob-worker serve`) as a local process behind a Pod
object the operator discovers as it discovers an endpoint's pods (tests/support/
model_server.py). The endpoint's own Deployment asks for more CPUs than any simulated node
has, so its KWOK pod stays unscheduled and the local replica is the only ready one: the
operator reaches replicas at their pod IP and `http` port, which works from a pod of the
cluster and from this host alike (a Service's ClusterIP would not: an EndpointSlice cannot
hold the loopback address).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aijob_api.conditions import Phase, Reason
from aijob_api.constants import LABEL_JOB_NAME
from lightkube import Client
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod

from tests.integration.operator.endpoints import AIEndpoints
from tests.integration.operator.process import OperatorProcess
from tests.integration.operator.support import EXAMPLES, AIJobs
from tests.support.eventually import Timeout, eventually
from tests.support.model_server import (
    SETOSA,
    VERSICOLOR,
    VIRGINICA,
    LocalModelServer,
    create_replica,
)

EXAMPLE = "predict-on-endpoint.yaml"
ENDPOINT: dict[str, Any] = {
    "apiVersion": "aijob.dev/v1alpha1",
    "kind": "AIEndpoint",
    "metadata": {"name": "iris"},
    "spec": {
        "model": {
            "source": {"uri": "file:///var/lib/aijob/artifacts/NAMESPACE/iris/model"},
            "type": "random_forest",
        },
        "framework": "sklearn",
        # More than any simulated node has: the Deployment's own pod is never scheduled.
        "resources": {"cpu": "1000"},
        "batching": {"maxBatchSize": 2},
        "requestTimeoutSeconds": 30,
    },
}


def endpoint_in(namespace: str) -> dict[str, Any]:
    """ENDPOINT in `namespace`, its model in that tenant's store (the only one it may name)."""
    body = copy.deepcopy(ENDPOINT)
    source = body["spec"]["model"]["source"]
    source["uri"] = source["uri"].replace("NAMESPACE", namespace)
    return body


@pytest.fixture
def server(model_server: LocalModelServer) -> Iterator[LocalModelServer]:
    """The session's model server with no failure rule (before and after the test)."""
    model_server.clear_faults()
    yield model_server
    model_server.clear_faults()


@pytest.fixture
def endpoints(kube: Client, namespace: str) -> AIEndpoints:
    return AIEndpoints(kube, namespace)


def serve_iris(endpoints: AIEndpoints, kube: Client, server: LocalModelServer, **spec: Any) -> None:
    """The endpoint iris, with one ready replica: the local model server."""
    body = endpoint_in(endpoints.namespace)
    body["spec"].update(spec)
    endpoints.create(body)
    create_replica(kube, endpoints.namespace, "iris", "iris-local-0", server.port)


def example(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = yaml.safe_load((EXAMPLES / EXAMPLE).read_text())
    body["spec"].update(spec)
    return body


def no_job_and_no_worker_pod(kube: Client, namespace: str) -> None:
    assert list(kube.list(Job, namespace=namespace)) == []
    assert list(kube.list(Pod, namespace=namespace, labels={LABEL_JOB_NAME: None})) == []


def nothing_in_flight(server: LocalModelServer) -> None:
    eventually(lambda: server.in_flight() == 0, timeout=Timeout.PROCESS, what="server idle")


@pytest.mark.usefixtures("operator")
def test_a_job_on_an_endpoint_runs_on_its_warm_replica_without_a_job(
    aijobs: AIJobs, endpoints: AIEndpoints, kube: Client, namespace: str, server: LocalModelServer
) -> None:
    serve_iris(endpoints, kube, server)
    nothing_in_flight(server)
    before = server.predictions_answered()
    name = aijobs.apply_example(EXAMPLE)

    done = aijobs.wait_phase(name, Phase.SUCCEEDED, timeout=Timeout.PROCESS)

    status = done.status
    assert status.results is not None
    outputs = status.results.outputs or []
    assert [output["prediction"] for output in outputs] == ["setosa", "versicolor", "virginica"]
    assert server.predictions_answered() - before == 2, "3 records in chunks of maxBatchSize 2"
    timings = status.results.timings
    assert timings is not None
    assert timings.infer_ms is not None
    assert timings.infer_ms > 0
    assert None not in (timings.prepare_ms, timings.postprocess_ms)
    assert (status.reason, status.pod_name, status.job_name) == (
        Reason.COMPLETED,
        "iris-local-0",
        None,
    )
    assert status.progress is not None
    assert status.progress.percent == 100
    assert status.framework == "sklearn"
    no_job_and_no_worker_pod(kube, namespace)
    reasons = aijobs.event_reasons(name)
    assert Reason.INFERRING_ON_ENDPOINT in reasons
    assert reasons[-1] == Reason.COMPLETED


@pytest.mark.usefixtures("operator")
def test_a_job_on_an_endpoint_is_cancelled_mid_run(
    aijobs: AIJobs, endpoints: AIEndpoints, kube: Client, server: LocalModelServer
) -> None:
    serve_iris(endpoints, kube, server)
    server.inject(mode="delay", count=1, delayMs=20_000)
    name = aijobs.create(example())
    aijobs.wait_phase(name, Phase.RUNNING, timeout=Timeout.API)

    aijobs.patch_spec(name, {"cancel": True})

    cancelled = aijobs.wait_phase(name, Phase.CANCELLED, timeout=Timeout.API)
    assert cancelled.status.results is None
    assert cancelled.status.reason == Reason.CANCELLED


@pytest.mark.usefixtures("operator")
def test_a_bad_record_fails_the_job_naming_it(
    aijobs: AIJobs, endpoints: AIEndpoints, kube: Client, server: LocalModelServer
) -> None:
    serve_iris(endpoints, kube, server)
    records = [SETOSA, VERSICOLOR, VIRGINICA, [5.1, 3.5]]
    name = aijobs.create(example(input={"records": records}))

    failed = aijobs.wait_phase(name, Phase.FAILED, timeout=Timeout.PROCESS)

    assert failed.status.reason == Reason.BAD_INPUT
    assert "spec.input.records[3]" in (failed.status.message or "")
    assert failed.status.results is None


@pytest.fixture
def short_endpoint_wait(operator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> float:
    """A missing or unready endpoint is given up on after three seconds."""
    monkeypatch.setenv("AIJOB_OPERATOR_ENDPOINT_WAIT_SECONDS", "3")
    return 3.0


@pytest.mark.usefixtures("short_endpoint_wait", "operator")
def test_a_missing_or_unready_endpoint_is_waited_for_then_the_job_fails(
    aijobs: AIJobs, endpoints: AIEndpoints
) -> None:
    endpoints.create(endpoint_in(endpoints.namespace))  # no replica will ever be ready
    missing = aijobs.create({**example(endpoint="nowhere"), "metadata": {"name": "on-nowhere"}})
    unready = aijobs.create(example())

    aijobs.wait_phase(missing, Phase.PENDING, timeout=Timeout.API, reason="WaitingForEndpoint")
    gone = aijobs.wait_phase(missing, Phase.FAILED, timeout=Timeout.API)
    not_ready = aijobs.wait_phase(unready, Phase.FAILED, timeout=Timeout.SCHEDULING)

    assert gone.status.reason == Reason.ENDPOINT_NOT_FOUND
    assert "endpoint nowhere does not exist" in (gone.status.message or "")
    assert not_ready.status.reason == Reason.ENDPOINT_NOT_READY
    assert "endpoint iris has no ready replica" in (not_ready.status.message or "")


@pytest.fixture
def operator_process(
    namespace: str, aijob_crd: str, priority_classes: dict[str, int], tmp_path: Path
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(namespace, tmp_path / "operator.log")
    yield process
    process.kill()


def test_a_run_cut_by_an_operator_kill_is_run_again_and_a_finished_job_never_is(
    operator_process: OperatorProcess,
    aijobs: AIJobs,
    endpoints: AIEndpoints,
    kube: Client,
    namespace: str,
    server: LocalModelServer,
) -> None:
    serve_iris(endpoints, kube, server, batching={"maxBatchSize": 32})
    nothing_in_flight(server)
    server.inject(mode="delay", count=1, delayMs=6_000)  # the first run hangs on its call
    operator_process.start()
    name = aijobs.apply_example(EXAMPLE)
    first = aijobs.wait_phase(name, Phase.RUNNING, timeout=Timeout.PROCESS)
    assert first.status.attempts == 1, operator_process.log()

    operator_process.kill()
    operator_process.start()

    done = aijobs.wait_phase(name, Phase.SUCCEEDED, timeout=Timeout.PROCESS)
    assert done.status.attempts == 2, "the run cut short was made again"
    assert done.status.results is not None
    assert len(done.status.results.outputs or []) == 3
    no_job_and_no_worker_pod(kube, namespace)

    nothing_in_flight(server)  # the killed operator's call, which nobody reads, ends too
    before = server.predictions_answered()
    operator_process.kill()
    operator_process.start()
    after = aijobs.create({**example(), "metadata": {"name": "after-restart"}})
    aijobs.wait_phase(after, Phase.SUCCEEDED, timeout=Timeout.PROCESS)

    assert server.predictions_answered() - before == 1, "only the new job was predicted"
    again = aijobs.get(name).status
    assert (again.attempts, again.completion_time) == (2, done.status.completion_time)
