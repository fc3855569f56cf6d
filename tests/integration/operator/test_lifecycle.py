"""An AIJob's life on a real API server: success, retries, bad input, timeout, cancel, TTL."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.conditions import ConditionType, Phase, Reason
from aijob_api.constants import LABEL_JOB_NAME
from aijob_operator.builders.meta import identity_name
from lightkube import ApiError, Client
from lightkube.resources.core_v1 import ServiceAccount
from lightkube.resources.rbac_authorization_v1 import Role, RoleBinding

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout, eventually
from tests.support.kubectl import kubectl

pytestmark = pytest.mark.usefixtures("operator")


def test_success_records_the_run_and_owns_its_children(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    aijobs.create(manifest("ok", namespace))
    waited = kubectl(
        "wait",
        "--for=condition=Succeeded",
        "aijob/ok",
        "-n",
        namespace,
        f"--timeout={Timeout.SIMULATED_JOB}s",
    )
    assert "condition met" in waited.stdout

    job = aijobs.get("ok")
    status = job.status
    assert (status.phase, status.reason) == (Phase.SUCCEEDED, Reason.COMPLETED)
    assert (status.job_name, status.attempts, status.failed_attempts) == ("ok", 1, 0)
    assert status.pod_name is not None
    assert status.pod_name.startswith("ok-0-")
    assert status.node_name == "kwok-cpu-0"
    assert status.start_time is not None
    assert status.completion_time is not None
    assert status.observed_generation == job.metadata.generation
    assert (status.framework, status.image) == ("sklearn", "aijob/worker-sklearn:0.1.0")
    conditions = {condition.type: condition.status for condition in status.conditions}
    assert conditions[ConditionType.SUCCEEDED] == "True"
    assert conditions[ConditionType.CREATED] == "True"
    assert conditions[ConditionType.RUNNING] == "False"

    eventually(lambda: Reason.COMPLETED in aijobs.event_reasons("ok"), timeout=Timeout.API)
    reasons = aijobs.event_reasons("ok")
    lifecycle = [Reason.JOB_CREATED, Reason.POD_RUNNING, Reason.COMPLETED]
    # States that last less than the status interval (1 s) are written (and told) once.
    assert reasons == [reason for reason in lifecycle if reason in reasons]
    assert reasons[-1] == Reason.COMPLETED
    children = [
        kube.get(ServiceAccount, identity_name("ok"), namespace=namespace).metadata,
        kube.get(Role, identity_name("ok"), namespace=namespace).metadata,
        kube.get(RoleBinding, identity_name("ok"), namespace=namespace).metadata,
    ]
    for metadata in children:
        assert metadata is not None
        (owner,) = metadata.ownerReferences or []
        assert (owner.kind, owner.uid) == ("AIJob", job.metadata.uid)
    assert len(aijobs.jobs()) == 1


def test_failed_attempts_are_retried_and_the_exit_code_reported(
    aijobs: AIJobs, namespace: str
) -> None:
    body = manifest(
        "flaky",
        namespace,
        retryPolicy={"maxRetries": 1},
        podTemplate=simulated({"aijob.dev/fake-exit-code": "3"}),
    )
    aijobs.create(body)
    aijobs.wait(
        "flaky",
        lambda job: job.status.phase is Phase.RETRYING or job.status.attempts == 2,
        timeout=Timeout.SIMULATED_JOB,
        what="a retry",
    )
    failed = aijobs.wait_phase("flaky", Phase.FAILED, timeout=Timeout.SIMULATED_JOB)
    status = failed.status
    assert status.reason == Reason.BACKOFF_LIMIT_EXCEEDED
    assert (status.attempts, status.failed_attempts, status.exit_code) == (2, 2, 3)
    assert "exited with code 3" in (status.message or "")
    assert len(aijobs.pods("flaky")) == 2
    eventually(lambda: Reason.ATTEMPT_FAILED in aijobs.event_reasons("flaky"), timeout=Timeout.API)


def test_bad_input_fails_at_once_without_retries(aijobs: AIJobs, namespace: str) -> None:
    body = manifest(
        "bad-input",
        namespace,
        retryPolicy={"maxRetries": 3},
        podTemplate=simulated({"aijob.dev/fake-exit-code": "65"}),
    )
    aijobs.create(body)
    failed = aijobs.wait_phase("bad-input", Phase.FAILED, timeout=Timeout.SIMULATED_JOB)
    assert failed.status.reason == Reason.BAD_INPUT
    assert (failed.status.attempts, failed.status.failed_attempts) == (1, 1)
    assert "code 65" in (failed.status.message or "")
    assert len(aijobs.pods("bad-input")) == 1


def test_timeout_stops_the_job(aijobs: AIJobs, namespace: str) -> None:
    body = manifest(
        "slow",
        namespace,
        timeoutSeconds=3,
        podTemplate=simulated({"aijob.dev/fake-run-seconds": "120"}),
    )
    aijobs.create(body)
    failed = aijobs.wait_phase("slow", Phase.FAILED, timeout=Timeout.SIMULATED_JOB)
    assert failed.status.reason == Reason.DEADLINE_EXCEEDED
    assert "timeoutSeconds=3" in (failed.status.message or "")


def test_cancel_stops_the_pods_and_keeps_the_record(aijobs: AIJobs, namespace: str) -> None:
    body = manifest(
        "to-cancel", namespace, podTemplate=simulated({"aijob.dev/fake-run-seconds": "300"})
    )
    aijobs.create(body)
    aijobs.wait_phase("to-cancel", Phase.RUNNING, timeout=Timeout.SCHEDULING)

    aijobs.patch_spec("to-cancel", {"cancel": True})
    cancelled = aijobs.wait_phase("to-cancel", Phase.CANCELLED, timeout=Timeout.API)
    assert cancelled.status.reason == Reason.CANCELLED
    assert cancelled.status.completion_time is not None
    eventually(lambda: aijobs.job("to-cancel") is None, timeout=Timeout.API, what="Job deleted")
    eventually(
        lambda: not aijobs.pods("to-cancel"), timeout=Timeout.SIMULATED_JOB, what="pods gone"
    )
    with pytest.raises(ApiError, match="un-cancelled"):
        aijobs.patch_spec("to-cancel", {"cancel": False})
    assert aijobs.get("to-cancel").status.phase is Phase.CANCELLED


def test_ttl_deletes_the_finished_aijob_and_what_it_owns(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    aijobs.create(manifest("short-lived", namespace, ttlSecondsAfterFinished=2))
    aijobs.wait_phase("short-lived", Phase.SUCCEEDED, timeout=Timeout.SIMULATED_JOB)

    def gone() -> bool:
        try:
            aijobs.get("short-lived")
        except ApiError as error:
            return error.status.code == 404
        return False

    eventually(gone, timeout=Timeout.API, what="the AIJob deleted by its TTL")
    eventually(
        lambda: aijobs.job("short-lived") is None and not aijobs.pods("short-lived"),
        timeout=Timeout.SIMULATED_JOB,
        what="the Job and pods garbage-collected",
    )
    eventually(
        lambda: (
            not list(
                kube.list(
                    ServiceAccount, namespace=namespace, labels={LABEL_JOB_NAME: "short-lived"}
                )
            )
        ),
        timeout=Timeout.SIMULATED_JOB,
        what="the ServiceAccount garbage-collected",
    )


def test_a_deleted_job_is_reported_lost_not_rerun(
    aijobs: AIJobs, kube: Client, namespace: str
) -> None:
    from lightkube.resources.batch_v1 import Job

    body = manifest(
        "orphan", namespace, podTemplate=simulated({"aijob.dev/fake-run-seconds": "300"})
    )
    aijobs.create(body)
    aijobs.wait_phase("orphan", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    kube.delete(Job, "orphan", namespace=namespace)
    failed = aijobs.wait_phase("orphan", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.JOB_LOST
    assert aijobs.job("orphan") is None


def test_unknown_runtime_version_fails_with_the_catalog_named(
    aijobs: AIJobs, namespace: str
) -> None:
    aijobs.create(manifest("old-sklearn", namespace, frameworkVersion="0.1"))
    failed = aijobs.wait_phase("old-sklearn", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    assert "no sklearn version '0.1'" in (failed.status.message or "")
    assert aijobs.job("old-sklearn") is None


def test_a_model_type_the_image_does_not_serve_fails_before_any_job(
    aijobs: AIJobs, namespace: str
) -> None:
    aijobs.create(
        manifest(
            "forest-on-keras",
            namespace,
            framework="tensorflow",
            model={"type": "random_forest"},
        )
    )
    failed = aijobs.wait_phase("forest-on-keras", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    message = failed.status.message or ""
    assert "spec.model.type: 'random_forest' is not served by the tensorflow" in message
    assert "keras_cnn" in message, "the message lists what the runtime serves"
    assert aijobs.job("forest-on-keras") is None
    assert failed.status.attempts == 0


@pytest.mark.parametrize(
    ("name", "spec", "runtime"),
    [
        ("forest-on-a-gpu", {}, "the sklearn 1.9 runtime"),
        (
            "keras-on-a-gpu",
            {"model": {"type": "keras_cnn"}, "dataset": {"name": "digits"}},
            "the tensorflow 2.21 runtime",
        ),
    ],
)
def test_a_gpu_request_a_runtime_cannot_use_fails_before_any_job(
    aijobs: AIJobs, namespace: str, name: str, spec: dict[str, Any], runtime: str
) -> None:
    aijobs.create(manifest(name, namespace, resources={"gpu": 1}, **spec))
    failed = aijobs.wait_phase(name, Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    message = failed.status.message or ""
    assert message.startswith("spec.resources.gpu: 1 GPU(s) asked for"), message
    assert f"{runtime} (" in message, message
    assert "cannot use GPUs" in message, message
    assert aijobs.job(name) is None
    assert failed.status.attempts == 0
    eventually(
        lambda: Reason.INVALID_SPEC in aijobs.event_reasons(name),
        timeout=Timeout.API,
        what="a Warning event",
    )
