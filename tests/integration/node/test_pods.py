"""Pods on the real node really run: output and exit codes, the API from inside, termination."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from lightkube import ApiError, Client
from lightkube.models.batch_v1 import (
    JobSpec,
    PodFailurePolicy,
    PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyRule,
)
from lightkube.models.core_v1 import PodTemplateSpec, ResourceRequirements
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Node, Pod, Service

from tests.support.eventually import Timeout, eventually
from tests.support.kubectl import kubectl
from tests.support.real_node import (
    TERMINAL_PHASES,
    real_pod,
    real_pod_spec,
    terminated_state,
)


def wait_finished(kube: Client, name: str, namespace: str) -> Pod:
    """The pod once it has reached Succeeded or Failed."""

    def finished() -> Pod:
        pod = kube.get(Pod, name, namespace=namespace)
        phase = pod.status.phase if pod.status else None
        assert phase in TERMINAL_PHASES, f"pod {name} is {phase}"
        return pod

    return eventually(finished, timeout=Timeout.REAL_POD, what=f"pod {name} to finish")


def logs_of(kube: Client, name: str, namespace: str) -> str:
    """The main container's log, through the API server's pod log endpoint."""
    return "".join(kube.log(name, namespace=namespace))


@pytest.mark.parametrize(("exit_code", "phase"), [(0, "Succeeded"), (7, "Failed")])
def test_pod_output_and_exit_code_come_back(
    kube: Client, namespace: str, real_node: Node, exit_code: int, phase: str
) -> None:
    token = uuid.uuid4().hex
    program = f"import sys; print('hello from the real node', {token!r}); sys.exit({exit_code})"
    kube.create(real_pod("hello", ["python3", "-c", program]), namespace=namespace)

    pod = wait_finished(kube, "hello", namespace)

    assert pod.spec is not None
    assert real_node.metadata is not None
    assert pod.spec.nodeName == real_node.metadata.name
    assert pod.status is not None
    assert pod.status.phase == phase
    state = terminated_state(pod)
    assert state is not None
    assert state.exitCode == exit_code
    logs = kubectl("logs", "--namespace", namespace, "hello").stdout
    assert f"hello from the real node {token}" in logs


def test_job_pod_exit_code_3_fails_the_job(kube: Client, namespace: str, real_node: Node) -> None:
    fail_on_3 = PodFailurePolicyRule(
        action="FailJob",
        onExitCodes=PodFailurePolicyOnExitCodesRequirement(operator="In", values=[3]),
    )
    job = Job(
        metadata=ObjectMeta(name="exits-3"),
        spec=JobSpec(
            backoffLimit=2,
            podFailurePolicy=PodFailurePolicy(rules=[fail_on_3]),
            template=PodTemplateSpec(
                spec=real_pod_spec(["python3", "-c", "import sys; sys.exit(3)"], grace=None)
            ),
        ),
    )
    kube.create(job, namespace=namespace)

    def failed_condition() -> tuple[str, str]:
        current = kube.get(Job, "exits-3", namespace=namespace)
        conditions = (current.status.conditions if current.status else None) or []
        failed = [c for c in conditions if c.type == "Failed" and c.status == "True"]
        assert failed, f"job conditions: {[(c.type, c.status) for c in conditions]}"
        return failed[0].reason or "", failed[0].message or ""

    reason, message = eventually(failed_condition, timeout=Timeout.REAL_POD, what="the Job to fail")

    assert reason == "PodFailurePolicy"
    assert "exit code 3" in message
    pods = kube.list(Pod, namespace=namespace, labels={"batch.kubernetes.io/job-name": "exits-3"})
    exit_codes = {state.exitCode for pod in pods if (state := terminated_state(pod))}
    assert exit_codes == {3}


API_PROBE = """
import json, os, ssl, urllib.request
account = "/var/run/secrets/kubernetes.io/serviceaccount"
host = os.environ["KUBERNETES_SERVICE_HOST"]
port = os.environ["KUBERNETES_SERVICE_PORT"]
context = ssl.create_default_context(cafile=account + "/ca.crt")
token = open(account + "/token").read()
def call(path, body=None):
    request = urllib.request.Request(
        f"https://{host}:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
    )
    return json.load(urllib.request.urlopen(request, context=context, timeout=20))
review = call(
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
)
print(json.dumps({
    "host": host,
    "port": port,
    "versions": call("/api")["versions"],
    "user": review["status"]["userInfo"]["username"],
}))
"""


def test_pod_reaches_the_api_server_through_the_kubernetes_service(
    kube: Client, namespace: str, real_node: Node
) -> None:
    kube.create(real_pod("api-probe", ["python3", "-c", API_PROBE]), namespace=namespace)

    pod = wait_finished(kube, "api-probe", namespace)

    logs = logs_of(kube, "api-probe", namespace)
    assert pod.status is not None
    assert pod.status.phase == "Succeeded", logs
    answer = json.loads(logs.strip().splitlines()[-1])
    service = kube.get(Service, "kubernetes", namespace="default")
    assert service.spec is not None
    assert answer["host"] == service.spec.clusterIP
    assert answer["port"] == "443"
    assert answer["versions"] == ["v1"]
    assert answer["user"] == f"system:serviceaccount:{namespace}:default"


def host_pids_running(token: str) -> list[int]:
    """Processes of this host whose command line contains `token`."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


SLEEPER = """
import signal, sys, time
if {handles_sigterm}:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("running {token}", flush=True)
while True:
    time.sleep(0.2)
"""


@pytest.mark.parametrize(
    ("handles_sigterm", "grace_seconds", "stop_timeout"),
    [
        # SIGTERM is delivered: the process is gone long before its 120 s grace period.
        (True, 120, Timeout.API),
        # A process that ignores SIGTERM is killed when its 3 s grace period ends.
        (False, 3, 3 + Timeout.API),
    ],
    ids=["exits-on-sigterm", "killed-after-grace"],
)
def test_deleting_a_running_pod_stops_its_process(
    kube: Client,
    namespace: str,
    real_node: Node,
    node_is_this_host: bool,
    handles_sigterm: bool,
    grace_seconds: int,
    stop_timeout: int,
) -> None:
    token = uuid.uuid4().hex
    program = SLEEPER.format(handles_sigterm=handles_sigterm, token=token)
    pod = real_pod("sleeper", ["python3", "-c", program], grace_seconds=grace_seconds)
    kube.create(pod, namespace=namespace)

    def started() -> bool:
        try:
            return f"running {token}" in logs_of(kube, "sleeper", namespace)
        except ApiError as error:  # no log yet while the container is being created
            raise AssertionError(f"{error.status.code}: {error.status.message}") from error

    eventually(started, timeout=Timeout.REAL_POD, what="the sleeper to start")
    if node_is_this_host:
        assert host_pids_running(token), "the pod's process is not visible on this host"

    kube.delete(Pod, "sleeper", namespace=namespace)

    def gone() -> bool:
        try:
            kube.get(Pod, "sleeper", namespace=namespace)
        except ApiError as error:
            return error.status.code == 404
        return False

    eventually(gone, timeout=stop_timeout, what="the deleted pod to stop and go")
    if node_is_this_host:
        left = host_pids_running(token)
        assert left == [], f"processes of the deleted pod still run: {left}"


def test_memory_limit_is_enforced_by_the_kernel(
    kube: Client, namespace: str, real_node: Node
) -> None:
    # Requests equal to limits: a Guaranteed pod, whose negative OOM score adjustment
    # containerd must clamp on this host (restrict_oom_score_adj).
    pod = real_pod("hog", ["python3", "-c", "b = bytearray(300 * 1024 * 1024); print(len(b))"])
    assert pod.spec is not None
    pod.spec.containers[0].resources = ResourceRequirements(
        requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "50m", "memory": "64Mi"}
    )
    kube.create(pod, namespace=namespace)

    finished = wait_finished(kube, "hog", namespace)

    assert finished.status is not None
    assert finished.status.qosClass == "Guaranteed"
    assert finished.status.phase == "Failed"
    state = terminated_state(finished)
    assert state is not None
    assert (state.reason, state.exitCode) == ("OOMKilled", 137)
