"""The status server's pure checks: whose pod a token names (from informer views), how a
schema error is named."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.status_report import StatusReport
from aijob_operator.informer import ChildCache
from aijob_operator.status_server import _first_problem, _loose_json, owning_job
from aijob_operator.status_tokens import PodIdentity
from aijob_operator.views import JobView, PodView
from pydantic import ValidationError

KEY = ("team-a", "train")


def owned(kind: str, name: str, uid: str, owner_uid: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": KEY[0],
            "uid": uid,
            "ownerReferences": [{"kind": kind, "uid": owner_uid, "controller": True}],
        }
    }


@pytest.fixture
def caches() -> tuple[ChildCache, ChildCache]:
    pods, jobs = ChildCache(), ChildCache()
    pods.apply("pod-uid", KEY, PodView.from_body(owned("Job", "train-0", "pod-uid", "job-uid")))
    jobs.apply("job-uid", KEY, JobView.from_body(owned("AIJob", "train", "job-uid", "aijob-uid")))
    other = ("team-a", "other")
    pods.apply("p2", other, PodView.from_body(owned("Job", "other-0", "p2", "j2")))
    jobs.apply("j2", other, JobView.from_body(owned("AIJob", "other", "j2", "a2")))
    return pods, jobs


def test_the_pod_of_this_aijobs_job_is_found(caches: tuple[ChildCache, ChildCache]) -> None:
    job = owning_job(PodIdentity("team-a", "sa", "train-0", "pod-uid"), KEY, *caches)
    assert job is not None
    assert job.owner_uid == "aijob-uid"


@pytest.mark.parametrize(
    "identity",
    [
        PodIdentity("team-b", "sa", "train-0", "pod-uid"),  # another namespace's token
        PodIdentity("team-a", "sa", "other-0", "p2"),  # another job's pod
        PodIdentity("team-a", "sa", "train-0", "old-uid"),  # a namesake pod (another uid)
        PodIdentity("team-a", "sa", "stranger", "x"),  # not a job pod at all
    ],
    ids=["namespace", "another-job", "namesake", "stranger"],
)
def test_any_other_pod_is_not_this_aijobs(
    identity: PodIdentity, caches: tuple[ChildCache, ChildCache]
) -> None:
    assert owning_job(identity, KEY, *caches) is None


def test_a_pod_whose_job_is_not_known_is_not_this_aijobs() -> None:
    pods, jobs = ChildCache(), ChildCache()
    pods.apply("pod-uid", KEY, PodView.from_body(owned("Job", "train-0", "pod-uid", "gone")))
    assert owning_job(PodIdentity("team-a", "sa", "train-0", "pod-uid"), KEY, pods, jobs) is None


def test_a_schema_error_names_the_field() -> None:
    body = '{"uid": "u", "pod": "p", "sequence": 1, "status": {"phase": "Succeeded"}}'
    with pytest.raises(ValidationError) as raised:
        StatusReport.model_validate_json(body)
    assert _first_problem(raised.value).startswith("status.phase: ")


def test_a_body_that_is_no_object_reads_as_empty() -> None:
    assert _loose_json(b"[1]") == {}
    assert _loose_json(b"{") == {}
    assert _loose_json(b'{"pod": "p"}') == {"pod": "p"}
