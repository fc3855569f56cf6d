"""A Job's pod refused by the API server (a tenant's ResourceQuota, an admission): the
FailedCreate Event read into a view, filed under its AIJob, and the AIJob's status that
names the quota (Queued, QuotaExceeded) until a pod exists."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_operator.builders.meta import job_name
from aijob_operator.decide import Inputs, decide, job_event
from aijob_operator.refusals import (
    PodRefusal,
    describe_refusal,
    latest_refusal,
    refusal_owner,
)
from aijob_operator.status import observe_job
from aijob_operator.views import JobView, PodView

from tests.unit.operator.factories import (
    JOB_UID,
    aijob,
    at,
    exited,
    job_body,
    pod_body,
    stamp,
)

QUOTA_WORDS = (
    'Error creating: pods "train-0-x7k2p" is forbidden: exceeded quota: aijob-gpus, '
    "requested: requests.nvidia.com/gpu=2, used: requests.nvidia.com/gpu=4, "
    "limited: requests.nvidia.com/gpu=4"
)
PSA_WORDS = (
    'Error creating: pods "train-0-x7k2p" is forbidden: violates PodSecurity '
    '"restricted:latest": hostPath volumes (volume "artifacts")'
)


def event(
    message: str = QUOTA_WORDS,
    *,
    last: float = 20,
    uid: str = "event-1",
    job: str = "train",
    job_uid: str = JOB_UID,
    kind: str = "Job",
) -> dict[str, Any]:
    """A FailedCreate Event as the Job controller records it (core/v1, old style)."""
    return {
        "metadata": {"name": f"{job}.17a", "namespace": "ns", "uid": uid},
        "involvedObject": {"kind": kind, "namespace": "ns", "name": job, "uid": job_uid},
        "reason": "FailedCreate",
        "type": "Warning",
        "message": message,
        "count": 3,
        "firstTimestamp": stamp(5),
        "lastTimestamp": stamp(last),
    }


def test_an_event_becomes_a_small_view() -> None:
    refusal = PodRefusal.from_event(event())
    assert refusal == PodRefusal(job_uid=JOB_UID, message=QUOTA_WORDS, last_seen=at(20))


def test_a_new_style_event_is_read_by_its_series() -> None:
    body = event()
    del body["lastTimestamp"], body["firstTimestamp"]
    body["eventTime"] = "2026-01-01T12:00:07.123456Z"
    assert PodRefusal.from_event(body).last_seen == at(7.123456)
    body["series"] = {"count": 4, "lastObservedTime": "2026-01-01T12:00:25.000000Z"}
    assert PodRefusal.from_event(body).last_seen == at(25)


def test_an_event_is_filed_under_the_aijob_of_its_job() -> None:
    assert refusal_owner(event(job=job_name("train"))) == ("ns", "train")
    assert refusal_owner(event(kind="ReplicaSet")) is None
    assert refusal_owner({"involvedObject": {"kind": "Job"}}) is None


def test_the_latest_refusal_of_this_job_counts() -> None:
    views = [
        PodRefusal.from_event(event("old", last=10)),
        PodRefusal.from_event(event("new", last=20)),
        PodRefusal.from_event(event("another job's", last=30, job_uid="other")),
        "not a refusal",
    ]
    latest = latest_refusal(views, JOB_UID)
    assert latest is not None
    assert latest.message == "new"
    assert latest_refusal(views, "no-such-job") is None
    assert latest_refusal([], JOB_UID) is None


@pytest.mark.parametrize(
    ("words", "reason", "says"),
    [
        (
            QUOTA_WORDS,
            Reason.QUOTA_EXCEEDED,
            (
                "ResourceQuota aijob-gpus holds back the pod of Job train",
                "requested: requests.nvidia.com/gpu=2, used: requests.nvidia.com/gpu=4, "
                "limited: requests.nvidia.com/gpu=4",
                "once the quota allows it",
            ),
        ),
        (
            'Error creating: pods "p" is forbidden: exceeded quota: aijob-priority-high-forbidden'
            ", requested: pods=1, used: pods=0, limited: pods=0",
            Reason.QUOTA_EXCEEDED,
            ("ResourceQuota aijob-priority-high-forbidden", "limited: pods=0"),
        ),
        (
            PSA_WORDS,
            Reason.PODS_NOT_CREATED,
            ('the API server refuses the pod of Job train: pods "train-0-x7k2p"', "PodSecurity"),
        ),
    ],
    ids=["gpus", "forbidden priority", "pod security"],
)
def test_describe_refusal(words: str, reason: str, says: tuple[str, ...]) -> None:
    refusal = PodRefusal(job_uid=JOB_UID, message=words, last_seen=at(20))
    got_reason, message = describe_refusal(refusal, "train")
    assert got_reason == reason
    for text in says:
        assert text in message
    assert "Error creating" not in message


def observe(pods: list[dict[str, Any]], refusal: PodRefusal | None, **job: Any) -> Any:
    return observe_job(
        aijob(),
        JobView.from_body(job_body(**job)),
        [PodView.from_body(body) for body in pods],
        at(30),
        refusal,
    )


REFUSED = PodRefusal(job_uid=JOB_UID, message=QUOTA_WORDS, last_seen=at(20))


def test_a_job_without_a_pod_is_held_back_by_the_quota() -> None:
    seen = observe([], REFUSED)
    assert (seen.phase, seen.reason) == (Phase.QUEUED, Reason.QUOTA_EXCEEDED)
    assert "ResourceQuota aijob-gpus" in seen.message
    assert seen.facts.attempts == 0, "no attempt was made"
    assert (observe([], None).phase, observe([], None).reason) == (
        Phase.QUEUED,
        Reason.JOB_CREATED,
    )


def test_a_pod_that_exists_clears_the_refusal() -> None:
    pending = pod_body(created=25)
    seen = observe([pending], REFUSED, active=1)
    assert seen.reason == Reason.JOB_CREATED
    running = pod_body(created=25, phase="Running", node="kwok-gpu-0")
    assert observe([running], REFUSED, active=1).reason == Reason.POD_RUNNING


def test_a_refused_retry_after_a_failed_attempt_names_the_quota() -> None:
    failed = pod_body(phase="Failed", created=5, node="n", terminated=exited(3))
    assert observe([failed], REFUSED, failed=1).reason == Reason.QUOTA_EXCEEDED
    later = pod_body(phase="Failed", created=25, node="n", terminated=exited(3))
    seen = observe([later], REFUSED, failed=1)
    assert seen.reason == Reason.ATTEMPT_FAILED, "the refusal is older than the last pod"


def test_decide_reports_it_with_a_warning_event() -> None:
    given = Inputs(
        aijob=aijob(status={"phase": "Queued", "reason": "JobCreated", "jobName": "train"}),
        now=at(30),
        job=JobView.from_body(job_body()),
        refusal=REFUSED,
    )
    decision = decide(given)
    assert decision.status.phase is Phase.QUEUED
    assert decision.status.reason == Reason.QUOTA_EXCEEDED
    assert "aijob-gpus" in (decision.status.message or "")
    event = job_event(given.aijob.status, decision.status)
    assert event is not None
    assert (event.type, event.reason) == ("Warning", Reason.QUOTA_EXCEEDED)
