"""Models served warm on the real node: the examples trained, then served by AIEndpoints
(examples/endpoint-sklearn.yaml on two replicas, examples/endpoint-pytorch.yaml on one),
predicted through the gateway, the Open Inference Protocol with tritonclient (a client
nobody here wrote), a replica killed in a burst, a retraining rolled out under traffic,
bad input, and a model that cannot load.

Inference goes to the gateway Service's ClusterIP (the `inference` client): the test
process runs on the real node, as a client pod would. The endpoints are deleted at the
end of the module, so the later tests' training pods find the node's CPUs free.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from lightkube import Client
from lightkube.resources.core_v1 import Pod

from tests.e2e.conftest import Release
from tests.e2e.endpoints import (
    SETOSA,
    VIRGINICA,
    Flow,
    apply_example,
    burst,
    crash_containers,
    endpoint_pods,
    example_records,
    get_endpoint,
    pod_name,
    restarts,
    service_url,
    wait_for_endpoint,
)
from tests.e2e.jobs import sklearn_training, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.kubectl import kubectl
from tests.support.real_node import has_image, ready_real_nodes
from tests.support.release import PYTORCH_IMAGE
from tests.support.storage import tenant_client

IRIS, DIGITS = "iris", "digits"
DIGIT_RECORDS = example_records("inference-pytorch.yaml")
"""A handwritten 0 and 1 (examples/inference-pytorch.yaml), which digits-mlp reads right."""
BURST_REQUESTS = 500


@pytest.fixture(scope="module")
def served(release: Release, kube: Client) -> Iterator[Release]:
    """Both training examples trained, then both endpoint examples Ready; deleted after."""
    if not has_image(ready_real_nodes(kube)[0], PYTORCH_IMAGE):
        pytest.skip(f"{PYTORCH_IMAGE} is not imported into the real node (make images)")
    tenant = release.tenant
    # Trained first, endpoints after: on the node's 2 CPUs a training pod that waited for
    # the endpoints' CPU requests would never start.
    trainings = [apply_example(tenant, f) for f in ("train-sklearn.yaml", "train-pytorch.yaml")]
    for name in trainings:
        wait_for_phase(kube, tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    endpoints = [
        apply_example(tenant, f) for f in ("endpoint-sklearn.yaml", "endpoint-pytorch.yaml")
    ]
    assert endpoints == [IRIS, DIGITS]
    try:
        for name in endpoints:
            wait_for_endpoint(kube, tenant, name, "Ready", Timeout.REAL_POD)
        yield release
    finally:
        kubectl("-n", tenant, "delete", "aiendpoints", "--all", "--wait=true", timeout=150)

        def pods_gone() -> bool:
            assert not [p for p in kube.list(Pod, namespace=tenant) if _of_endpoint(p)]
            return True

        eventually(pods_gone, timeout=Timeout.REAL_POD, what="the endpoints' pods gone")


def _of_endpoint(pod: Pod) -> bool:
    return bool(pod.metadata and "aijob.dev/endpoint" in (pod.metadata.labels or {}))


def predictions(answer: dict[str, Any]) -> list[str]:
    return [output["prediction"] for output in answer["outputs"]]


def test_both_models_predict_through_the_gateway_and_the_open_inference_protocol(
    served: Release, inference: httpx.Client, api_key: str, kube: Client
) -> None:
    tenant = served.tenant
    iris = get_endpoint(kube, tenant, IRIS)
    assert iris["status"]["readyReplicas"] == 2
    assert iris["status"]["model"]["trainingJob"] == "iris-forest"
    iris_pods = {pod_name(pod) for pod in endpoint_pods(kube, tenant, IRIS)}

    answer = inference.post(f"/v1/endpoints/{IRIS}/infer", json={"records": [SETOSA, VIRGINICA]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert predictions(body) == ["setosa", "virginica"]
    assert body["pod"] in iris_pods
    assert body["modelChecksum"] == iris["status"]["model"]["checksum"]
    assert {"prepareMs", "inferMs", "postprocessMs", "totalMs"} <= set(body["timings"])

    digits = inference.post(f"/v1/endpoints/{DIGITS}/infer", json={"records": DIGIT_RECORDS})
    assert digits.status_code == 200, digits.text
    assert predictions(digits.json()) == ["0", "1"]

    # Open Inference Protocol: tritonclient through the gateway (a base path and the key) ...
    headers = {"Authorization": f"Bearer {api_key}"}
    host = inference.base_url.netloc.decode()
    through_gateway = triton.InferenceServerClient(url=f"{host}/v1/endpoints/{IRIS}")
    features = triton.InferInput("features", [2, 4], "FP32")
    features.set_data_from_numpy(np.array([SETOSA, VIRGINICA], dtype=np.float32))
    result = through_gateway.infer(IRIS, [features], headers=headers)
    assert [bytes(p).decode() for p in result.as_numpy("prediction")] == ["setosa", "virginica"]
    assert through_gateway.is_model_ready(IRIS, headers=headers)
    # ... and straight to the endpoint's Service, as a client in the cluster may.
    # kube-proxy programs the Service's rules a moment after the replicas turn ready (until
    # then the node answers "connection refused"), so the first call waits for the route.
    direct = triton.InferenceServerClient(url=service_url(kube, tenant, DIGITS))
    metadata = eventually(
        lambda: _metadata_when_routed(direct, DIGITS),
        timeout=Timeout.API,
        what=f"{DIGITS}: the Service routed by the node",
    )
    assert metadata["platform"] == "pytorch"
    assert metadata["inputs"][0]["shape"] == [-1, 64]
    pixels = triton.InferInput("features", [2, 64], "FP32")
    pixels.set_data_from_numpy(np.array(DIGIT_RECORDS, dtype=np.float32))
    read = direct.infer(DIGITS, [pixels])
    assert [bytes(p).decode() for p in read.as_numpy("prediction")] == ["0", "1"]


def _metadata_when_routed(client: triton.InferenceServerClient, model: str) -> dict[str, Any]:
    """The model's metadata, or an AssertionError while the Service is not yet routed."""
    try:
        metadata: dict[str, Any] = client.get_model_metadata(model)
    except ConnectionRefusedError as error:
        raise AssertionError(f"not routed yet: {error}") from error
    return metadata


def test_the_seeds_inference_routes_answer_on_the_warm_replicas(
    served: Release, inference: httpx.Client, api_key: str, kube: Client
) -> None:
    # Seed 004's coordinator: task_type names the endpoint; answered synchronously.
    request_id = unique("seed004")
    answer = inference.post(
        "/infer", json={"request_id": request_id, "task_type": IRIS, "data": VIRGINICA}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["request_id"] == request_id
    assert body["result"]["prediction"] == "virginica"
    assert body["worker_id"] in {pod_name(pod) for pod in endpoint_pods(kube, served.tenant, IRIS)}
    assert body["retry_count"] == 0
    assert 0 < body["latency"] < 5

    # Seed 003's server: a task on the warm replicas, polled, with its x-api-key header.
    task = {"model": DIGITS, "input": DIGIT_RECORDS, "priority": "high",
            "client_request_id": unique("seed003")}  # fmt: skip
    with httpx.Client(base_url=inference.base_url, headers={"x-api-key": api_key}) as seed:
        accepted = seed.post("/v1/tasks", json=task)
        assert accepted.status_code == 202, accepted.text
        task_id = accepted.json()["task_id"]
        assert seed.post("/v1/tasks", json=task).json()["task_id"] == task_id, "idempotent"

        def succeeded() -> dict[str, Any]:
            view = seed.get(f"/v1/tasks/{task_id}")
            assert view.status_code == 200, view.text
            state: dict[str, Any] = view.json()
            assert state["status"] not in {"FAILURE", "REVOKED"}, state
            assert state["status"] == "SUCCESS", state
            return state

        done = eventually(succeeded, timeout=Timeout.REAL_POD, what=f"task {task_id} SUCCESS")
        # As the seed's: the result lives in S3 (the tenant's bucket), its key in the answer,
        # and is read back through the gateway with the same key, checksum as recorded.
        result = done["result"]
        assert [output["prediction"] for output in result["output"]] == ["0", "1"]
        assert result["bucket"] == f"aijob-{served.tenant}"
        assert result["s3_key"].endswith(f"/results/{task_id}.json"), result
        downloaded = seed.get(result["url"])
        assert downloaded.status_code == 200, downloaded.text
    assert hashlib.sha256(downloaded.content).hexdigest() == result["sha256"]
    stored = tenant_client(kube, served.tenant).get_object(result["bucket"], result["s3_key"])
    try:
        assert stored.data == downloaded.content
    finally:
        stored.close()
        stored.release_conn()
    document = json.loads(downloaded.content)
    assert document["task_id"] == task_id
    assert [output["prediction"] for output in document["outputs"]] == ["0", "1"]
    assert {"prepare_ms", "infer_ms", "upload_ms"} <= set(done["timing"])


def stats(inference: httpx.Client, endpoint: str) -> dict[str, Any]:
    response = inference.get(f"/v1/endpoints/{endpoint}/stats")
    assert response.status_code == 200, response.text
    figures: dict[str, Any] = response.json()
    return figures


def test_a_replica_killed_during_a_burst_loses_no_request(
    served: Release, inference: httpx.Client, kube: Client
) -> None:
    tenant = served.tenant
    before = stats(inference, IRIS)
    replica = endpoint_pods(kube, tenant, IRIS)[0]
    victim = pod_name(replica)
    records = [SETOSA, VIRGINICA]
    bodies = [{"records": [records[i % 2]]} for i in range(BURST_REQUESTS)]

    def kill() -> None:
        # The server dies at once with requests in flight (a pod deleted with grace 0
        # alone still gets SIGTERM and drains them), and the pod goes.
        assert crash_containers(replica) > 0, f"no process of {victim} found on the node"
        kube.delete(Pod, victim, namespace=tenant, grace_period=0)

    answers = burst(
        inference, f"/v1/endpoints/{IRIS}/infer", bodies, concurrency=16, after=100, action=kill
    )

    failed = [(i, a.status, a.error or a.body) for i, a in enumerate(answers) if a.status != 200]
    assert not failed, f"{len(failed)} of {BURST_REQUESTS} not answered with a result: {failed[:5]}"
    expected = ["setosa" if i % 2 == 0 else "virginica" for i in range(BURST_REQUESTS)]
    assert [predictions(a.body)[0] for a in answers] == expected
    served_by = Counter(a.body["pod"] for a in answers)
    assert victim in served_by, served_by
    assert len(served_by) >= 2, served_by
    retries = sum(a.body["retries"] for a in answers)
    assert retries > 0, "no request was in flight on the killed replica"

    after = stats(inference, IRIS)
    for figure in ("received", "answered"):
        assert after[figure] - before[figure] == BURST_REQUESTS, (figure, before, after)
    assert after["failed"] == before["failed"]
    assert after["retries"] - before["retries"] == retries
    # The Deployment replaces the replica; the endpoint is whole again.
    wait_for_endpoint(
        kube, tenant, IRIS, "Ready", Timeout.REAL_POD,
        also=lambda e: e["status"].get("readyReplicas") == 2,
    )  # fmt: skip
    assert victim not in {pod_name(pod) for pod in endpoint_pods(kube, tenant, IRIS)}


def test_retraining_while_requests_flow_rolls_out_with_no_failed_request(
    served: Release, api: httpx.Client, inference: httpx.Client, kube: Client
) -> None:
    tenant = served.tenant
    old_model = get_endpoint(kube, tenant, IRIS)["status"]["model"]
    flow = Flow(inference, f"/v1/endpoints/{IRIS}/infer", {"records": [SETOSA]}).start()
    try:
        retrained = unique("iris-retrained")
        submit(api, retrained, sklearn_training(seed=2))
        job = wait_for_phase(kube, tenant, retrained, "Succeeded", Timeout.REAL_TRAINING)
        source = {"spec": {"model": {"source": {"trainingJob": retrained}}}}
        kubectl("-n", tenant, "patch", "aiendpoint", IRIS, "--type=merge", "-p", json.dumps(source))

        def serves_the_new_model(endpoint: dict[str, Any]) -> bool:
            status = endpoint["status"]
            return bool(
                (status.get("model") or {}).get("trainingJob") == retrained
                and status.get("updatedReplicas") == status.get("readyReplicas") == 2
            )

        rolled = wait_for_endpoint(
            kube, tenant, IRIS, "Ready", Timeout.REAL_POD, also=serves_the_new_model
        )
        # A few answers from the new replicas only, then the traffic stops.
        seen = len(flow.answers)
        eventually(lambda: len(flow.answers) > seen + 20, timeout=Timeout.API, what="traffic")
    finally:
        answers = flow.stop()

    failed = [(a.status, a.error or a.body) for a in answers if a.status != 200]
    assert not failed, f"{len(failed)} of {len(answers)} requests failed: {failed[:5]}"
    new_model = rolled["status"]["model"]
    assert new_model["trainingJobUid"] == job["metadata"]["uid"]
    assert new_model["checksum"] != old_model["checksum"]
    checksums = [a.body["modelChecksum"] for a in answers]
    assert checksums[0] == old_model["checksum"]
    assert checksums[-1] == new_model["checksum"]
    assert set(checksums) == {old_model["checksum"], new_model["checksum"]}
    assert all(predictions(a.body) == ["setosa"] for a in answers)


def test_bad_input_is_a_422_naming_the_field_and_restarts_nothing(
    served: Release, inference: httpx.Client, kube: Client
) -> None:
    tenant = served.tenant
    pods_before = restarts(endpoint_pods(kube, tenant, IRIS))

    short = inference.post(f"/v1/endpoints/{IRIS}/infer", json={"records": [SETOSA, [5.1, 3.5]]})
    assert short.status_code == 422, short.text
    assert short.json()["field"] == "records[1]"
    words = inference.post(f"/v1/endpoints/{IRIS}/infer", json={"records": [["a", "b", "c", "d"]]})
    assert words.status_code == 422, words.text
    assert words.json()["field"] == "records[0]"
    tensor = {"name": "features", "datatype": "FP32", "shape": [1, 3], "data": [5.1, 3.5, 1.4]}
    v2 = inference.post(f"/v1/endpoints/{IRIS}/v2/models/{IRIS}/infer", json={"inputs": [tensor]})
    assert v2.status_code == 422, v2.text
    assert v2.json()["error"]
    unknown = inference.post("/v1/endpoints/no-such-endpoint/infer", json={"records": [SETOSA]})
    assert unknown.status_code == 404, unknown.text

    good = inference.post(f"/v1/endpoints/{IRIS}/infer", json={"records": [SETOSA]})
    assert good.status_code == 200, good.text
    assert get_endpoint(kube, tenant, IRIS)["status"]["phase"] == "Ready"
    assert restarts(endpoint_pods(kube, tenant, IRIS)) == pods_before


def test_a_model_that_cannot_load_fails_the_endpoint_with_the_reason(
    served: Release, api: httpx.Client, kube: Client
) -> None:
    tenant = served.tenant
    name = unique("broken")
    missing = f"s3://aijob-{tenant}/jobs/no-such-job/model"  # its own bucket, nothing there
    spec = {
        "model": {"type": "random_forest", "source": {"uri": missing}},
        "resources": {"cpu": "100m", "memory": "512Mi"},
    }
    created = api.post("/v1/endpoints", json={"name": name, "spec": spec})
    assert created.status_code == 201, created.text
    try:
        failed = wait_for_endpoint(kube, tenant, name, "Failed", Timeout.REAL_POD)
        status = failed["status"]
        assert status["reason"] == "ModelLoadFailed", status
        assert status["message"].startswith("model failed to load"), status
        assert "modelUri" in status["message"], status
        assert not status.get("readyReplicas")
    finally:
        assert api.delete(f"/v1/endpoints/{name}").status_code == 202
