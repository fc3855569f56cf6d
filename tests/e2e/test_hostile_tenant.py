"""A hostile tenant on the real node: tenant B (the release's second tenant, under the admin's
limits: priorities normal and low, one GPU per job and in all) tries every attack of issue 13
against tenant A, with its own API key and its own kubectl (a user of its namespace only).
Each is refused with a message naming the field or the limit, while A's model, trained
first, keeps its checksum and A's inference after every attack (1,000 records of 200
characters, the spec as a file) finishes. The model swapped in A's own bucket and refused
by its recorded checksum is test_storage.py's."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aijob_api.constants import LABEL_JOB_NAME
from aijob_kube.resources import AIEndpointResource, AIJobResource
from lightkube import Client
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod
from minio import Minio
from minio.error import S3Error

from tests.e2e.conftest import RIVAL_LIMITS, RIVAL_NAMESPACE, Release
from tests.e2e.jobs import simulated_gpu_job, submit, unique, wait_for_phase
from tests.e2e.rival import TenantKubectl, aijob_manifest, long_records
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob
from tests.support.kubectl import kubectl
from tests.support.release import gateway_service_url
from tests.support.storage import tenant_client

MANIFEST = "aijob-model.json"
WINE_TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {"type": "logistic_regression"},
    "dataset": {"name": "wine"},
    "resources": {"cpu": "250m", "memory": "512Mi"},
}
SMALL = {"cpu": "250m", "memory": "256Mi"}
POLICY = "(tenant limit allowedPriorities: normal,low)"
GPU_POLICY = f"(tenant limit maxGpusPerJob: {RIVAL_LIMITS['maxGpusPerJob']})"


@dataclass(frozen=True)
class Victim:
    """Tenant A's trained model, as its training job recorded it."""

    job: str
    bucket: str
    model_uri: str
    manifest_key: str
    sha256: str
    results: dict[str, Any]


def _sha_of(store: Minio, bucket: str, key: str) -> str:
    return hashlib.sha256(store.get_object(bucket, key).read()).hexdigest()


@pytest.fixture(scope="module")
def victim(release: Release, api: httpx.Client, kube: Client) -> Victim:
    """A's model: a logistic regression on wine trained on the real node, in A's bucket."""
    name = unique("victim")
    submit(api, name, WINE_TRAINING)
    trained = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    results = trained["status"]["results"]
    bucket = f"aijob-{release.tenant}"
    assert results["modelUri"] == f"s3://{bucket}/jobs/{name}/model"
    recorded = {item["name"]: item.get("sha256") for item in results["artifacts"]}
    key = f"jobs/{name}/model/{MANIFEST}"
    sha = _sha_of(tenant_client(kube, release.tenant), bucket, key)
    assert recorded[f"model/{MANIFEST}"] == sha
    return Victim(name, bucket, results["modelUri"], key, sha, results)


@pytest.fixture(scope="module")
def rival_kubectl(release: Release, tmp_path_factory: pytest.TempPathFactory) -> TenantKubectl:
    """B's kubectl: a user of B's namespace, and of nothing else."""
    return TenantKubectl(RIVAL_NAMESPACE, tmp_path_factory.mktemp("rival"))


def _refused(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == field, problem
    detail: str = problem["detail"]
    return detail


def _jobs_of(kube: Client, namespace: str) -> set[str]:
    return {
        str(job["metadata"]["name"])
        for job in kube.list(AIJobResource, namespace=namespace)
        if job.get("metadata")
    }


def test_the_rival_cannot_name_the_victims_data_or_model_by_uri(
    release: Release,
    victim: Victim,
    rival_api: httpx.Client,
    rival_kubectl: TenantKubectl,
    kube: Client,
) -> None:
    victims_dir = f"file:///var/lib/aijob/artifacts/{release.tenant}"
    inference = {"task": "inference", "input": {"records": [[13.2] * 13]}, "resources": SMALL}
    from_model = {"type": "logistic_regression", "source": {"uri": victim.model_uri}}
    attacks: list[tuple[dict[str, Any], str]] = [
        ({**WINE_TRAINING, "dataset": {"uri": f"{victims_dir}/data.csv"}},
         "spec.dataset.uri"),
        ({**WINE_TRAINING, "dataset": {"uri": f"{victim.model_uri}/{MANIFEST}"}},
         "spec.dataset.uri"),
        ({**inference, "model": from_model}, "spec.model.source.uri"),
        ({**inference, "model": {"type": "logistic_regression", "source": {"trainingJob": "x"}},
          "input": {"uri": f"s3://{victim.bucket}/jobs/{victim.job}/inputs.csv"}},
         "spec.input.uri"),
        ({**WINE_TRAINING, "model": {"type": "logistic_regression",
                                     "hyperparameters": {"warmStart": victim.model_uri}}},
         "spec.model.hyperparameters.warmStart"),
    ]  # fmt: skip
    before = _jobs_of(kube, RIVAL_NAMESPACE)
    for spec, field in attacks:
        response = rival_api.post("/v1/jobs", json={"name": unique("steal"), "spec": spec})
        detail = _refused(response, field)
        assert detail.startswith(f"{field}: "), detail
        assert "outside this namespace's store" in detail or "only s3://" in detail, detail
    assert _jobs_of(kube, RIVAL_NAMESPACE) == before, "nothing was created"

    # kubectl goes past the gateway: the operator refuses, in the status, before any pod.
    name = unique("steal-kubectl")
    spec = {**WINE_TRAINING, "dataset": {"uri": f"{victim.model_uri}/{MANIFEST}"}}
    created = rival_kubectl.create(aijob_manifest(name, spec))
    assert created.returncode == 0, created.stderr
    failed = wait_for_phase(kube, RIVAL_NAMESPACE, name, "Failed", Timeout.API)
    assert failed["status"]["message"].startswith("spec.dataset.uri: "), failed["status"]
    assert not failed["status"].get("podName")
    assert not list(kube.list(Pod, namespace=RIVAL_NAMESPACE, labels={LABEL_JOB_NAME: name}))

    endpoint = unique("steal-endpoint")
    body = {
        "apiVersion": "aijob.dev/v1alpha1",
        "kind": "AIEndpoint",
        "metadata": {"name": endpoint},
        "spec": {"model": from_model, "resources": SMALL},
    }
    created = rival_kubectl.create(body)
    assert created.returncode == 0, created.stderr

    def endpoint_failed() -> str:
        status = (
            dict(kube.get(AIEndpointResource, endpoint, namespace=RIVAL_NAMESPACE)).get("status")
            or {}
        )
        assert status.get("phase") == "Failed", status
        assert status.get("reason") == "InvalidSpec", status
        return str(status["message"])

    message = eventually(endpoint_failed, timeout=Timeout.API, what=f"{endpoint} refused")
    assert message.startswith(f"spec.model.source.uri: {victim.model_uri!r}: outside"), message
    assert not list(kube.list(Deployment, namespace=RIVAL_NAMESPACE))
    rival_kubectl.run("delete", "aiendpoint", endpoint, f"aijob/{name}")


def test_a_training_job_name_resolves_in_the_rivals_own_namespace_only(
    release: Release, victim: Victim, rival_api: httpx.Client, kube: Client
) -> None:
    model = {"type": "logistic_regression", "source": {"trainingJob": victim.job}}
    spec = {"task": "inference", "model": model, "input": {"records": [[13.2] * 13]}}
    across = {**model, "source": {"trainingJob": f"{release.tenant}/{victim.job}"}}
    response = rival_api.post("/v1/jobs", json={"spec": {**spec, "model": across}})
    assert "spec.model.source.trainingJob" in _refused(response, "spec.model.source.trainingJob")

    name = unique("borrow-model")
    submit(rival_api, name, spec)

    def waiting() -> str:
        status = get_aijob(kube, RIVAL_NAMESPACE, name).get("status") or {}
        assert status.get("phase") == "Pending", status
        assert not status.get("podName"), status
        return str(status.get("message") or "")

    message = eventually(waiting, timeout=Timeout.API, what=f"{name} waiting for its own job")
    assert f"training job {victim.job} does not exist" in message, message
    assert rival_api.delete(f"/v1/jobs/{name}").status_code == 202


def test_the_rivals_storage_credentials_cannot_read_or_overwrite_the_victims_model(
    release: Release, victim: Victim, kube: Client
) -> None:
    rival = tenant_client(kube, RIVAL_NAMESPACE)  # the keys B's pods get from its Secret
    evil = b"the rival's model"
    attempts: dict[str, Callable[[], object]] = {
        "read": lambda: rival.get_object(victim.bucket, victim.manifest_key).read(),
        "overwrite": lambda: rival.put_object(
            victim.bucket, victim.manifest_key, io.BytesIO(evil), len(evil)
        ),
        "list": lambda: list(rival.list_objects(victim.bucket, "jobs/", recursive=True)),
        "delete": lambda: rival.remove_object(victim.bucket, victim.manifest_key),
    }
    for what, attempt in attempts.items():
        with pytest.raises(S3Error) as refused:
            attempt()
        assert refused.value.code == "AccessDenied", (what, refused.value)
    owner = tenant_client(kube, release.tenant)
    assert _sha_of(owner, victim.bucket, victim.manifest_key) == victim.sha256


def test_no_pod_runs_as_the_operators_account(
    release: Release, rival_kubectl: TenantKubectl, kube: Client, tmp_path: Path
) -> None:
    names = ["operator", release.operator_service_account, "aijob-operator"]
    spec = {
        "task": "training",
        "model": {"type": "logistic_regression"},
        "dataset": {"name": "iris"},
        "resources": SMALL,
    }
    # B may not write into the release's namespace at all.
    refused = rival_kubectl.create(aijob_manifest("operator", spec, namespace=release.namespace))
    assert refused.returncode != 0
    assert "forbidden" in refused.stderr.lower(), refused.stderr
    # An admin's slip: an AIJob in the release's namespace, which the operator never reconciles.
    slip = tmp_path / "slip.yaml"
    slip.write_text(yaml.safe_dump(aijob_manifest("operator", spec, namespace=release.namespace)))
    kubectl("create", "-f", str(slip))
    try:
        for name in names:
            created = rival_kubectl.create(aijob_manifest(name, spec))
            assert created.returncode == 0, created.stderr
        for name in names:

            def pod_account(job: str = name) -> tuple[str, bool]:
                pods = list(kube.list(Pod, namespace=RIVAL_NAMESPACE, labels={"job-name": job}))
                assert pods, f"{job} has no pod yet"
                assert pods[0].spec is not None
                spec = pods[0].spec
                return str(spec.serviceAccountName), spec.automountServiceAccountToken is False

            account, on_channel = eventually(
                pod_account, timeout=Timeout.REAL_POD, what=f"{name}'s pod"
            )
            # On the status channel a worker has no identity of its own and no API token;
            # without it, its own per-job identity (never one of the release's accounts).
            assert account == ("default" if on_channel else f"{name}-aijob-worker"), account
        # B's jobs got their pods: the operator has long seen the one in its own namespace.
        ignored = get_aijob(kube, release.namespace, "operator")
        assert not ignored.get("status"), ignored
        pods = kube.list(Pod, namespace=release.namespace)
        accounts = {pod.spec.serviceAccountName for pod in pods if pod.spec is not None}
        assert accounts <= {release.operator_service_account, f"{release.name}-gateway"}, accounts
        assert not list(
            kube.list(Pod, namespace=release.namespace, labels={LABEL_JOB_NAME: "operator"})
        )
    finally:
        kube.delete(AIJobResource, "operator", namespace=release.namespace)
        rival_kubectl.run("delete", "aijobs", *names, "--wait=false")


def test_an_oversized_anonymous_body_is_refused_and_the_victim_still_served(
    release: Release, kube: Client, api: httpx.Client
) -> None:
    # At the Service's ClusterIP, as a client pod would send it: kubectl port-forward (the
    # other tests' tunnel) gives up for good when the gateway closes a connection mid-upload.
    body = b'{"spec": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = httpx.post(
        f"{gateway_service_url(kube, release)}/v1/jobs",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert api.get("/v1/jobs").status_code == 200


@pytest.fixture
def rival_running_job(rival_api: httpx.Client, kube: Client) -> Iterator[str]:
    """A long training of B on the real node (boosting that takes minutes), cancelled after."""
    name = unique("flooder")
    spec = {
        "task": "training",
        "model": {
            "type": "gradient_boosting",
            "hyperparameters": {"nEstimators": 10_000, "epochs": 100, "maxDepth": 6},
        },
        "dataset": {"name": "digits"},
        "resources": SMALL,
    }
    submit(rival_api, name, spec)
    running = wait_for_phase(kube, RIVAL_NAMESPACE, name, "Running", Timeout.REAL_POD)
    assert running["status"].get("podName")
    try:
        yield name
    finally:
        rival_api.delete(f"/v1/jobs/{name}")


def test_a_log_stream_flood_is_limited_per_key_while_the_victim_reads(
    gateway_url: str,
    rival_api: httpx.Client,
    api: httpx.Client,
    victim: Victim,
    rival_running_job: str,
) -> None:
    url = f"{gateway_url}/v1/jobs/{rival_running_job}/logs"
    headers = {"Authorization": rival_api.headers["Authorization"]}
    with ExitStack() as held:
        client = held.enter_context(httpx.Client(timeout=httpx.Timeout(30, read=None)))
        for _ in range(4):  # the chart's gateway.logs.streamsPerKey
            stream = held.enter_context(
                client.stream("GET", url, headers=headers, params={"follow": "true"})
            )
            assert stream.status_code == 200
        flood = rival_api.get(f"/v1/jobs/{rival_running_job}/logs", params={"follow": "true"})
        assert flood.status_code == 429, flood.text
        assert "log_streams_per_key=4" in flood.json()["detail"]
        # A reads on: its key has its own slots, and reads take none.
        assert api.get(f"/v1/jobs/{victim.job}/logs").status_code == 200
        followed = api.get(f"/v1/jobs/{victim.job}/logs", params={"follow": "true"})
        assert followed.status_code == 200, followed.text
        assert api.get("/v1/jobs").status_code == 200


def test_a_spec_beyond_the_bound_is_refused_naming_the_field(rival_api: httpx.Client) -> None:
    model = {"type": "logistic_regression", "source": {"trainingJob": "mine"}}
    records = long_records(1000)
    too_many = {"task": "inference", "model": model, "input": {"records": [*records, records[0]]}}
    response = rival_api.post("/v1/jobs", json={"spec": too_many})
    assert "at most 1000 items" in _refused(response, "spec.input.records")
    # 1,000 records of 400 characters: more than a pod's annotations carry.
    too_long = {"task": "inference", "model": model, "input": {"records": [r + r for r in records]}}
    response = rival_api.post("/v1/jobs", json={"spec": too_long})
    assert response.status_code == 422, response.text[:2000]
    detail = response.json()["detail"]
    assert "input.records: the spec takes" in detail, detail
    assert "input.uri" in detail, detail


def test_priorities_and_gpus_beyond_the_rivals_limits_are_refused(
    rival_api: httpx.Client, rival_kubectl: TenantKubectl, kube: Client
) -> None:
    urgent = {**WINE_TRAINING, "priority": "high"}
    greedy = simulated_gpu_job({"aijob.dev/fake-run-seconds": "600"}, gpus=2)
    priority_words = f"spec.priority: high is not allowed in namespace {RIVAL_NAMESPACE} {POLICY}"
    gpu_words = (
        f"spec.resources.gpu: 2 GPUs per job exceed the limit of namespace {RIVAL_NAMESPACE}"
    )
    for spec, words in ((urgent, priority_words), (greedy, gpu_words)):
        response = rival_api.post("/v1/jobs", json={"spec": spec})
        assert response.status_code == 422, response.text
        assert words in response.json()["detail"], response.text
        refused = rival_kubectl.create(aijob_manifest(unique("greedy"), spec))
        assert refused.returncode != 0, refused.stdout
        assert words in refused.stderr, refused.stderr
    assert GPU_POLICY in response.json()["detail"]

    # Within the per-job limits, the total (one GPU at once) holds the second job back.
    first, second = unique("gpu-first"), unique("gpu-second")
    try:
        submit(rival_api, first, simulated_gpu_job({"aijob.dev/fake-run-seconds": "600"}))
        wait_for_phase(kube, RIVAL_NAMESPACE, first, "Running", Timeout.SIMULATED_JOB)
        submit(rival_api, second, simulated_gpu_job({"aijob.dev/fake-run-seconds": "600"}))

        def held_back() -> str:
            status = get_aijob(kube, RIVAL_NAMESPACE, second).get("status") or {}
            assert status.get("reason") == "QuotaExceeded", status
            assert status.get("phase") == "Queued", status
            return str(status.get("message"))

        message = eventually(held_back, timeout=Timeout.SCHEDULING, what=f"{second} held back")
        assert f"ResourceQuota aijob-gpus holds back the pod of Job {second}" in message, message
    finally:
        for name in (first, second):
            rival_api.delete(f"/v1/jobs/{name}")


def test_after_every_attack_the_victims_model_is_untouched_and_serves_a_thousand_records(
    release: Release, victim: Victim, api: httpx.Client, kube: Client
) -> None:
    trained = get_aijob(kube, release.tenant, victim.job)
    assert trained["status"]["phase"] == "Succeeded"
    assert trained["status"]["results"] == victim.results
    owner = tenant_client(kube, release.tenant)
    assert _sha_of(owner, victim.bucket, victim.manifest_key) == victim.sha256

    # 1,000 inline records of 200 characters: more than one environment variable holds; the
    # spec reaches the worker as a file. The worker checks the recorded checksum first.
    name = unique("victim-predict")
    spec = {
        "task": "inference",
        "model": {"type": "logistic_regression", "source": {"trainingJob": victim.job}},
        "input": {"records": long_records(1000), "batchSize": 100},
        "resources": {"cpu": "250m", "memory": "512Mi"},
    }
    submit(api, name, spec)
    predicted = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    assert predicted["status"]["results"]["metrics"]["records"] == 1000
