"""AIEndpoints against the real API server: the operator (in-process) makes a ConfigMap, a
Deployment and a Service for each, owned by it, rolls out retrained models, follows the
scale subresource, and leaves nothing behind. The pods run on the KWOK nodes (simulated:
Running and Ready at once); real serving is the e2e suite's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aijob_api import contract
from aijob_api.conditions import Phase
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_conditions import EndpointConditionType, EndpointPhase, EndpointReason
from aijob_api.endpoint_status import ServedModel
from aijob_api.models import AIJob
from lightkube import Client

from tests.integration.operator.endpoints import AIEndpoints, endpoint_manifest
from tests.integration.operator.process import OperatorProcess
from tests.integration.operator.support import AIJobs
from tests.support.eventually import Timeout, eventually
from tests.support.kubectl import kubectl

TRAINING = "iris-forest"
"""The training job of examples/train-sklearn.yaml, which examples/endpoint-sklearn.yaml serves."""
FIRST, SECOND, THIRD = "a1" * 32, "b2" * 32, "c3" * 32


@pytest.fixture
def endpoints(kube: Client, namespace: str) -> AIEndpoints:
    """AIEndpoints of the test's namespace."""
    return AIEndpoints(kube, namespace)


@pytest.fixture
def short_grace(operator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> float:
    """A missing training job is given up on after two seconds."""
    monkeypatch.setenv("AIJOB_OPERATOR_DEPENDENCY_GRACE_SECONDS", "2")
    return 2.0


def model_uri(namespace: str, training_job: str) -> str:
    return f"file://{contract.ARTIFACTS_MOUNT_PATH}/{namespace}/{training_job}/model"


def finish_training(aijobs: AIJobs, checksum: str) -> AIJob:
    """Wait for the training job to succeed, then record its model as its worker does."""
    aijobs.wait_phase(TRAINING, Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)
    uri = model_uri(aijobs.namespace, TRAINING)
    manifest = {"name": contract.MODEL_MANIFEST_ARTIFACT, "uri": f"{uri}/aijob-model.json"}
    aijobs.patch_status(
        TRAINING,
        {"results": {"modelUri": uri, "artifacts": [{**manifest, "sha256": checksum}]}},
    )
    return aijobs.get(TRAINING)


def served(endpoints: AIEndpoints, name: str, checksum: str) -> AIEndpoint:
    """Wait until every replica of `name` serves the model with `checksum`."""
    return endpoints.wait(
        name,
        lambda item: (
            item.status.phase is EndpointPhase.READY
            and item.status.model is not None
            and item.status.model.checksum == checksum
        ),
        timeout=Timeout.SCHEDULING,
        what=f"Ready, serving {checksum[:8]}",
    )


@pytest.mark.usefixtures("operator")
def test_a_trained_model_is_served_by_a_deployment_and_a_service(
    aijobs: AIJobs, endpoints: AIEndpoints, namespace: str
) -> None:
    aijobs.apply_example("train-sklearn.yaml")
    name = endpoints.apply_example("endpoint-sklearn.yaml")
    waiting = endpoints.wait_phase(
        name,
        EndpointPhase.PENDING,
        reason=EndpointReason.WAITING_FOR_TRAINING_JOB,
        timeout=Timeout.API,
    )
    assert f"training job {TRAINING}" in (waiting.status.message or "")
    assert endpoints.deployment(name) is None
    training = finish_training(aijobs, FIRST)

    ready = served(endpoints, name, FIRST)
    uid = ready.metadata.uid
    assert (ready.status.replicas, ready.status.ready_replicas) == (2, 2)
    assert ready.status.model == ServedModel(
        uri=model_uri(namespace, TRAINING),
        checksum=FIRST,
        training_job=TRAINING,
        training_job_uid=training.metadata.uid,
    )
    assert ready.status.url == f"http://{name}.{namespace}.svc:80"
    assert ready.status.selector == f"aijob.dev/endpoint={name}"
    assert ready.status.framework is not None
    assert ready.status.framework.value == "sklearn"

    deployment = endpoints.deployment(name)
    assert deployment is not None
    assert deployment.metadata is not None
    assert deployment.spec is not None
    (owner,) = deployment.metadata.ownerReferences or []
    assert (owner.kind, owner.uid, owner.controller) == ("AIEndpoint", uid, True)
    assert deployment.spec.replicas == 2
    assert deployment.spec.strategy is not None
    rolling = deployment.spec.strategy.rollingUpdate
    assert rolling is not None
    assert (rolling.maxUnavailable, rolling.maxSurge) == (0, 1)
    pod_spec = deployment.spec.template.spec
    assert pod_spec is not None
    assert pod_spec.priorityClassName == "aijob-high"
    (server,) = pod_spec.containers
    assert server.image == "aijob/worker-sklearn:0.1.0"
    assert server.args == ["serve", "--config", "/etc/aijob/serve/serve.yaml"]
    assert server.readinessProbe is not None
    assert server.readinessProbe.httpGet is not None
    assert server.readinessProbe.httpGet.path == "/v2/health/ready"
    template = deployment.spec.template.metadata
    assert template is not None
    assert (template.annotations or {})["aijob.dev/model-checksum"] == FIRST

    service = endpoints.service(name)
    assert service is not None
    assert service.spec is not None
    assert [(port.name, port.port) for port in service.spec.ports or []] == [("http", 80)]
    config_map = endpoints.config_map(name)
    assert config_map is not None
    config = yaml.safe_load((config_map.data or {})["serve.yaml"])
    assert (config["name"], config["modelUri"], config["modelType"]) == (
        name,
        model_uri(namespace, TRAINING),
        "random_forest",
    )
    for child in (service, config_map):
        assert child.metadata is not None
        assert [ref.uid for ref in child.metadata.ownerReferences or []] == [uid]

    reasons = endpoints.event_reasons(name)
    assert reasons[0] == EndpointReason.WAITING_FOR_TRAINING_JOB
    assert reasons[-1] == EndpointReason.SERVING
    row = kubectl("get", "aiendpoints", name, "-n", namespace, "--no-headers").stdout.split()
    assert row[:6] == [name, TRAINING, "sklearn", "2", "2", "Ready"]
    kubectl("wait", "--for=condition=Ready", f"aiendpoint/{name}", "-n", namespace, "--timeout=5s")


@pytest.mark.usefixtures("short_grace", "operator")
def test_an_endpoint_naming_a_missing_training_job_gets_no_deployment(
    endpoints: AIEndpoints,
) -> None:
    name = endpoints.create(endpoint_manifest("lost", "no-such-job"))
    waiting = endpoints.wait_phase(
        name,
        EndpointPhase.PENDING,
        reason=EndpointReason.WAITING_FOR_TRAINING_JOB,
        timeout=Timeout.API,
    )
    assert "training job no-such-job does not exist (yet)" in (waiting.status.message or "")
    failed = endpoints.wait_phase(
        name,
        EndpointPhase.FAILED,
        reason=EndpointReason.TRAINING_JOB_NOT_FOUND,
        timeout=Timeout.API,
    )
    assert failed.status.message == "training job no-such-job does not exist in this namespace"
    resolved = {condition.type.value: condition for condition in failed.status.conditions}
    assert resolved["ModelResolved"].status == "False"
    assert resolved["Ready"].status == "False"
    assert endpoints.children(name) == []
    assert "TrainingJobNotFound" in endpoints.event_reasons(name)


@pytest.mark.usefixtures("operator")
def test_retraining_rolls_out_the_new_model(aijobs: AIJobs, endpoints: AIEndpoints) -> None:
    aijobs.apply_example("train-sklearn.yaml")
    first = finish_training(aijobs, FIRST)
    name = endpoints.create(endpoint_manifest("iris", TRAINING))
    served(endpoints, name, FIRST)

    retrained = {"name": contract.MODEL_MANIFEST_ARTIFACT, "uri": "file:///m", "sha256": SECOND}
    aijobs.patch_status(TRAINING, {"results": {"artifacts": [retrained]}})

    def template_checksum() -> str | None:
        deployment = endpoints.deployment(name)
        assert deployment is not None
        assert deployment.spec is not None
        assert deployment.spec.template.metadata is not None
        return (deployment.spec.template.metadata.annotations or {}).get("aijob.dev/model-checksum")

    eventually(lambda: template_checksum() == SECOND, timeout=Timeout.API, what="a new template")
    assert served(endpoints, name, SECOND).status.model is not None

    # The same name re-run: the endpoint keeps serving while the new job trains.
    kubectl("delete", "aijob", TRAINING, "-n", aijobs.namespace, "--wait=true")
    still = endpoints.wait(
        name,
        lambda item: "keep serving" in (item.status.message or ""),
        timeout=Timeout.API,
        what="serving on while its training job is gone",
    )
    assert still.status.phase is EndpointPhase.READY
    assert still.status.model is not None
    assert still.status.model.checksum == SECOND
    assert template_checksum() == SECOND
    aijobs.apply_example("train-sklearn.yaml")
    rerun = finish_training(aijobs, THIRD)
    assert rerun.metadata.uid != first.metadata.uid
    again = served(endpoints, name, THIRD)
    assert again.status.model is not None
    assert again.status.model.training_job_uid == rerun.metadata.uid


@pytest.mark.usefixtures("operator")
def test_kubectl_scale_drives_the_deployment_and_deleting_leaves_nothing(
    aijobs: AIJobs, endpoints: AIEndpoints, namespace: str
) -> None:
    aijobs.apply_example("train-sklearn.yaml")
    finish_training(aijobs, FIRST)
    name = endpoints.apply_example("endpoint-sklearn.yaml")
    served(endpoints, name, FIRST)

    kubectl("scale", f"aiendpoint/{name}", "--replicas=3", "-n", namespace)
    scaled = endpoints.wait(
        name,
        lambda item: item.status.phase is EndpointPhase.READY and item.status.ready_replicas == 3,
        timeout=Timeout.SCHEDULING,
        what="3 replicas ready",
    )
    assert scaled.status.replicas == 3
    deployment = endpoints.deployment(name)
    assert deployment is not None
    assert deployment.spec is not None
    assert deployment.spec.replicas == 3
    refused = kubectl("scale", f"aiendpoint/{name}", "--replicas=9", "-n", namespace, check=False)
    assert refused.returncode != 0
    assert "spec.replicas must be within spec.minReplicas and spec.maxReplicas" in refused.stderr
    assert len(endpoints.pods(name)) == 3

    endpoints.delete(name)
    eventually(
        lambda: endpoints.children(name) == [],
        timeout=Timeout.SCHEDULING,
        what="the endpoint's Deployment, pods, Service and ConfigMap to be gone",
    )


@pytest.fixture
def operator_process(
    namespace: str, aijob_crd: str, priority_classes: dict[str, int], tmp_path: Path
) -> Iterator[OperatorProcess]:
    """The operator as its own process (to be killed), watching only this namespace."""
    process = OperatorProcess(namespace, tmp_path / "operator.log")
    yield process
    process.kill()


def resource_versions(endpoints: AIEndpoints, name: str) -> dict[str, str]:
    """The resourceVersion and uid of each child, by kind."""
    children = {
        "Deployment": endpoints.deployment(name),
        "Service": endpoints.service(name),
        "ConfigMap": endpoints.config_map(name),
    }
    versions = {}
    for kind, child in children.items():
        assert child is not None
        assert child.metadata is not None
        versions[kind] = f"{child.metadata.uid}@{child.metadata.resourceVersion}"
    return versions


def test_a_killed_operator_picks_up_where_it_was_and_rewrites_nothing(
    operator_process: OperatorProcess, aijobs: AIJobs, endpoints: AIEndpoints, namespace: str
) -> None:
    operator_process.start()
    aijobs.apply_example("train-sklearn.yaml")
    finish_training(aijobs, FIRST)
    name = endpoints.apply_example("endpoint-sklearn.yaml")
    served(endpoints, name, FIRST)
    operator_process.kill()
    before = resource_versions(endpoints, name)
    status_before = endpoints.get(name).status

    operator_process.start()
    kubectl("scale", f"aiendpoint/{name}", "--replicas=3", "-n", namespace)
    endpoints.wait(
        name,
        lambda item: item.status.phase is EndpointPhase.READY and item.status.ready_replicas == 3,
        timeout=Timeout.SCHEDULING,
        what="3 replicas ready after the restart",
    )
    after = resource_versions(endpoints, name)
    assert operator_process.alive(), operator_process.log()
    assert after["Service"] == before["Service"], "the Service was not rewritten"
    assert after["ConfigMap"] == before["ConfigMap"], "the ConfigMap was not rewritten"
    assert after["Deployment"].split("@")[0] == before["Deployment"].split("@")[0]
    now = endpoints.get(name).status
    assert now.model == status_before.model
    ready_since = {c.type: c.last_transition_time for c in status_before.conditions}
    assert {c.type: c.last_transition_time for c in now.conditions}[
        EndpointConditionType.READY
    ] == ready_since[EndpointConditionType.READY]
