"""The children of an AIEndpoint: the serve ConfigMap, the Deployment and the Service."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from aijob_api import contract
from aijob_operator.builders.endpoint_config import CONFIG_PATH, build_config_map, serve_config
from aijob_operator.builders.endpoint_deployment import build_deployment
from aijob_operator.builders.endpoint_meta import (
    APPLIED_HASH_ANNOTATION,
    REVISION_LABEL,
    applied_hash,
    endpoint_url,
    selector,
)
from aijob_operator.builders.endpoint_service import build_service
from aijob_operator.builders.job import build_job
from aijob_operator.builders.pod import PodSettings
from aijob_operator.placement import PodToleration
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Service

from tests.unit.operator.endpoint_factories import (
    CATALOG,
    ENDPOINT_UID,
    MODEL,
    RETRAINED,
    endpoint,
    target,
)
from tests.unit.operator.factories import aijob


def deployment(spec: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    built: dict[str, Any] = build_deployment(target(endpoint(spec=spec), **kw)).to_dict()
    return built


def pod_spec(built: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = built["spec"]["template"]["spec"]
    return spec


def server(built: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any]
    (container,) = pod_spec(built)["containers"]
    return container


def at(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        elif isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        else:
            return None
    return value


@pytest.mark.parametrize(
    ("spec", "kw", "path", "expected"),
    [
        ({}, {}, ("metadata", "name"), "iris"),
        ({}, {}, ("spec", "replicas"), 1),
        ({"replicas": 3, "maxReplicas": 4}, {}, ("spec", "replicas"), 3),
        ({}, {}, ("spec", "selector", "matchLabels"), {"aijob.dev/endpoint": "iris"}),
        ({}, {}, ("spec", "strategy", "rollingUpdate"), {"maxUnavailable": 0, "maxSurge": 1}),
        ({}, {}, ("spec", "strategy", "type"), "RollingUpdate"),
        ({}, {}, ("metadata", "ownerReferences", 0, "uid"), ENDPOINT_UID),
        ({}, {}, ("metadata", "ownerReferences", 0, "kind"), "AIEndpoint"),
        ({}, {}, ("metadata", "ownerReferences", 0, "controller"), True),
        ({"priority": "high"}, {}, ("spec", "template", "spec", "priorityClassName"), "aijob-high"),
        ({}, {}, ("spec", "template", "spec", "priorityClassName"), "aijob-normal"),
        ({}, {}, ("spec", "template", "spec", "automountServiceAccountToken"), False),
        ({}, {}, ("spec", "template", "metadata", "labels", "aijob.dev/framework"), "sklearn"),
        (
            {},
            {"framework": "pytorch", "model_type": "mlp"},
            ("spec", "template", "spec", "containers", 0, "image"),
            "aijob/worker-pytorch:0.1.0",
        ),
        (
            {},
            {},
            ("spec", "template", "spec", "containers", 0, "image"),
            "aijob/worker-sklearn:0.1.0",
        ),
        (
            {},
            {},
            ("spec", "template", "metadata", "annotations", "aijob.dev/model-uri"),
            MODEL.uri,
        ),
        (
            {},
            {},
            ("spec", "template", "metadata", "annotations", "aijob.dev/model-checksum"),
            MODEL.checksum,
        ),
        (
            {},
            {},
            ("spec", "template", "metadata", "annotations", "aijob.dev/training-job-uid"),
            MODEL.training_job_uid,
        ),
    ],
)
def test_deployment_fields(
    spec: dict[str, Any], kw: dict[str, Any], path: tuple[str | int, ...], expected: object
) -> None:
    assert at(deployment(spec, **kw), path) == expected


def test_the_server_runs_serve_mode_with_the_config_file_and_the_catalogs_command() -> None:
    container = server(deployment())
    runtime = CATALOG.resolve(target().runtime.framework).runtime
    assert container["command"] == runtime.command
    assert container["args"] == ["serve", "--config", CONFIG_PATH]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["OMP_NUM_THREADS"] == "1"
    assert env["HOME"] == env["TMPDIR"] == contract.SCRATCH_MOUNT_PATH


def test_readiness_means_the_model_is_loaded_and_liveness_that_the_process_answers() -> None:
    container = server(deployment())
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert container["lifecycle"]["preStop"] == {"sleep": {"seconds": 5}}


def test_the_grace_period_outlasts_the_drain() -> None:
    built = deployment({"requestTimeoutSeconds": 60})
    config = serve_config(target(endpoint(spec={"requestTimeoutSeconds": 60})))
    assert config["drainTimeoutSeconds"] == 65
    assert pod_spec(built)["terminationGracePeriodSeconds"] > 5 + config["drainTimeoutSeconds"]


def test_security_context_and_volumes_are_those_of_worker_pods() -> None:
    job = build_job(aijob("train"), target().runtime, PodSettings()).to_dict()
    job_pod = job["spec"]["template"]["spec"]
    built = deployment()
    assert pod_spec(built)["securityContext"] == job_pod["securityContext"]
    assert server(built)["securityContext"] == job_pod["containers"][0]["securityContext"]
    volumes = {volume["name"]: volume for volume in pod_spec(built)["volumes"]}
    assert volumes["artifacts"] == {item["name"]: item for item in job_pod["volumes"]}["artifacts"]
    assert volumes["serve-config"]["configMap"] == {"name": "iris-serve"}
    mounts = {mount["mountPath"]: mount for mount in server(built)["volumeMounts"]}
    assert mounts[contract.ARTIFACTS_MOUNT_PATH]["readOnly"] is True
    assert mounts["/etc/aijob/serve"]["readOnly"] is True
    assert contract.SCRATCH_MOUNT_PATH in mounts


@pytest.mark.parametrize(
    ("spec", "requests"),
    [
        ({}, {"cpu": "500m", "memory": "1Gi"}),
        ({"resources": {"cpu": "2", "memory": "3Gi"}}, {"cpu": "2", "memory": "3Gi"}),
    ],
)
def test_resources_per_replica(spec: dict[str, Any], requests: dict[str, str]) -> None:
    assert server(deployment(spec))["resources"] == {"requests": requests, "limits": requests}


def test_a_gpu_replica_tolerates_gpu_nodes_and_a_cpu_one_follows_the_cpu_placement() -> None:
    settings = PodSettings(
        cpu_node_selector={"pool": "cpu"},
        cpu_tolerations=(PodToleration(key="pool", operator="Exists"),),
    )
    gpu = deployment(
        {"resources": {"gpu": 1}}, framework="pytorch", model_type="mlp", settings=settings
    )
    assert [item["key"] for item in pod_spec(gpu)["tolerations"]] == ["nvidia.com/gpu"]
    assert server(gpu)["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert "nodeSelector" not in pod_spec(gpu)
    cpu = deployment(settings=settings)
    assert pod_spec(cpu)["nodeSelector"] == {"pool": "cpu"}


def test_a_retrained_model_changes_the_template_and_its_revision() -> None:
    before = deployment()
    after = build_deployment(target(model=RETRAINED)).to_dict()
    labels = (
        before["spec"]["template"]["metadata"]["labels"],
        after["spec"]["template"]["metadata"]["labels"],
    )
    assert labels[0][REVISION_LABEL] != labels[1][REVISION_LABEL]
    assert after["spec"]["template"]["metadata"]["annotations"]["aijob.dev/model-checksum"] == (
        RETRAINED.checksum
    )


def test_scaling_changes_the_deployment_but_not_the_template() -> None:
    one = deployment()
    two = deployment({"replicas": 2})
    assert one["spec"]["template"] == two["spec"]["template"]
    assert (
        one["metadata"]["annotations"][APPLIED_HASH_ANNOTATION]
        != (two["metadata"]["annotations"][APPLIED_HASH_ANNOTATION])
    )


def test_building_twice_gives_the_same_objects() -> None:
    first, second = target(), target()
    pairs: list[tuple[ConfigMap | Service | Deployment, ConfigMap | Service | Deployment]] = [
        (build_deployment(first), build_deployment(second)),
        (build_service(first), build_service(second)),
        (build_config_map(first), build_config_map(second)),
    ]
    for one, other in pairs:
        assert one.to_dict() == other.to_dict()
        assert applied_hash(one) is not None
        assert applied_hash(one) == applied_hash(other)


def test_the_config_file_is_the_servers() -> None:
    built = build_config_map(
        target(
            endpoint(
                spec={
                    "concurrency": 8,
                    "batching": {"maxBatchSize": 64, "maxWaitMilliseconds": 2},
                    "requestTimeoutSeconds": 10,
                }
            )
        )
    ).to_dict()
    assert built["metadata"]["name"] == "iris-serve"
    config = yaml.safe_load(built["data"]["serve.yaml"])
    assert config == {
        "name": "iris",
        "modelUri": MODEL.uri,
        "modelType": "random_forest",
        "modelSha256": MODEL.checksum,
        "host": "0.0.0.0",
        "port": 8080,
        "maxBatchSize": 64,
        "maxBatchWaitMs": 2,
        "maxConcurrency": 8,
        "requestTimeoutSeconds": 10,
        "drainTimeoutSeconds": 15,
    }


def test_a_config_change_rolls_out() -> None:
    before = deployment()["spec"]["template"]["metadata"]
    after = deployment({"batching": {"maxBatchSize": 8}})["spec"]["template"]["metadata"]
    assert (
        before["annotations"]["aijob.dev/config-hash"]
        != (after["annotations"]["aijob.dev/config-hash"])
    )
    assert before["labels"][REVISION_LABEL] != after["labels"][REVISION_LABEL]


def test_the_service() -> None:
    built = build_service(target()).to_dict()
    assert built["metadata"]["name"] == "iris"
    assert built["spec"]["type"] == "ClusterIP"
    assert built["spec"]["selector"] == {"aijob.dev/endpoint": "iris"}
    assert built["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    assert built["metadata"]["ownerReferences"][0]["uid"] == ENDPOINT_UID
    assert endpoint_url("iris", "ns") == "http://iris.ns.svc:80"
    assert selector("iris") == "aijob.dev/endpoint=iris"
