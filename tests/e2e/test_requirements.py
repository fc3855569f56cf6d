"""spec.code.requirements on the real node: installed from a package index a pod serves.

The release's catalog (tests/e2e/conftest.py) lets the first tenant install requirements on
the scikit-learn runtime from `REQUIREMENTS_INDEX_URL`: here a pod of that tenant serves a
PEP 503 index of one hand-made wheel with `python -m http.server` (an existing worker
image, the files from a ConfigMap) behind a Service at that ClusterIP. A job requiring the
wheel installs it and its script imports it and reports; a job requiring a package the
index lacks fails once, as bad input, with the installer's own error.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Pod

from tests.e2e.conftest import REQUIREMENTS_INDEX_IP, Release
from tests.e2e.jobs import wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.kubectl import kubectl, kubectl_binary
from tests.support.package_index import index_config_map, index_items, wheel
from tests.support.real_node import REAL_NODE_LABEL, has_image, ready_real_nodes

IMAGE = "aijob/worker-sklearn:0.1.0"
INDEX = "aijob-package-index"
CODE = "requirements-code"
GOOD, MISSING = "reqs-installed", "reqs-missing"
PROJECT, VERSION = "aijob-e2e-demo", "1.0.3"
SCRIPT = """\
import aijob_e2e_demo
from aijob_worker import report
report(epoch=1, total_epochs=1, metrics={"answer": float(aijob_e2e_demo.ANSWER)})
"""
SECURE = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def kubectl_stdin(tenant: str, text: str) -> subprocess.CompletedProcess[str]:
    """`kubectl apply -f -` of one document in the tenant's namespace."""
    return subprocess.run(
        [kubectl_binary(), "-n", tenant, "apply", "-f", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def index_objects(filename: str) -> list[dict[str, Any]]:
    """The index's Pod and Service (its ConfigMap is made apart)."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": INDEX, "labels": {"app": INDEX}},
        "spec": {
            "nodeSelector": {REAL_NODE_LABEL: "true"},
            "tolerations": [
                {
                    "key": REAL_NODE_LABEL,
                    "operator": "Equal",
                    "value": "true",
                    "effect": "NoSchedule",
                }
            ],
            "automountServiceAccountToken": False,
            "securityContext": {"runAsUser": 10001, "runAsGroup": 10001},
            "containers": [
                {
                    "name": "index",
                    "image": IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["python", "-m", "http.server", "8080", "--directory", "/srv"],
                    "ports": [{"containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/simple/", "port": 8080}},
                    "resources": {"limits": {"memory": "128Mi", "cpu": "200m"}},
                    "securityContext": SECURE,
                    "volumeMounts": [{"name": "index", "mountPath": "/srv", "readOnly": True}],
                }
            ],
            "volumes": [
                {
                    "name": "index",
                    "configMap": {"name": INDEX, "items": index_items(PROJECT, filename)},
                }
            ],
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": INDEX},
        "spec": {
            "clusterIP": REQUIREMENTS_INDEX_IP,
            "selector": {"app": INDEX},
            "ports": [{"port": 8080, "targetPort": 8080}],
        },
    }
    return [pod, service]


def _clean(tenant: str) -> None:
    kubectl("-n", tenant, "delete", "aijob", GOOD, MISSING, "--ignore-not-found", "--wait=true")
    kubectl("-n", tenant, "delete", "pod,service,configmap", INDEX, "--ignore-not-found")
    kubectl("-n", tenant, "delete", "configmap", CODE, "--ignore-not-found")


@pytest.fixture
def index_tenant(release: Release, kube: Client) -> Iterator[str]:
    """The first tenant with the package index served and the code's ConfigMap made."""
    tenant = release.tenant
    _clean(tenant)
    assert has_image(ready_real_nodes(kube)[0], IMAGE), f"{IMAGE} is not on the real node"
    filename, data = wheel(PROJECT, VERSION, "ANSWER = 42\n")
    for document in [index_config_map(INDEX, PROJECT, filename, data), *index_objects(filename)]:
        done = kubectl_stdin(tenant, json.dumps(document))
        assert done.returncode == 0, done.stderr
    kubectl("-n", tenant, "create", "configmap", CODE, "--from-literal", f"train.py={SCRIPT}")

    def ready() -> bool:
        pod = kube.get(Pod, INDEX, namespace=tenant)
        conditions = (pod.status.conditions if pod.status else None) or []
        return any(c.type == "Ready" and c.status == "True" for c in conditions)

    eventually(ready, timeout=Timeout.REAL_POD, what="the package index to serve")
    yield tenant
    _clean(tenant)


def job(name: str, requirements: list[str]) -> str:
    """An AIJob running the script on the scikit-learn image with `requirements`."""
    return json.dumps(
        {
            "apiVersion": "aijob.dev/v1alpha1",
            "kind": "AIJob",
            "metadata": {"name": name},
            "spec": {
                "task": "training",
                "framework": "sklearn",
                "code": {"configMap": CODE, "entrypoint": "train.py", "requirements": requirements},
                "retryPolicy": {"maxRetries": 2},
            },
        }
    )


def test_requirements_install_from_the_index_and_a_missing_one_fails_once(
    index_tenant: str, kube: Client
) -> None:
    tenant = index_tenant
    done = kubectl_stdin(tenant, job(GOOD, [f"{PROJECT}=={VERSION}"]))
    assert done.returncode == 0, done.stderr
    done = kubectl_stdin(tenant, job(MISSING, [PROJECT, "aijob-no-such-package"]))
    assert done.returncode == 0, done.stderr

    trained = wait_for_phase(kube, tenant, GOOD, "Succeeded", Timeout.REAL_TRAINING)
    status = trained["status"]
    assert status["results"]["metrics"]["answer"] == 42.0, status
    log = kubectl("-n", tenant, "logs", status["podName"], check=False).stdout
    assert f"{PROJECT}=={VERSION}" in log, log[-2000:]

    failed = wait_for_phase(kube, tenant, MISSING, "Failed", Timeout.REAL_TRAINING)
    status = failed["status"]
    assert status["reason"] == "BadInput", status
    assert status["attempts"] == 1, "bad input must never be retried"
    message = status["message"]
    assert "spec.code.requirements: could not be installed" in message, message
    assert "aijob-no-such-package" in message, message
