"""Filters and keyset pagination of the job list."""

from __future__ import annotations

import pytest
from aijob_api.conditions import Phase
from aijob_api.models import AIJob, Priority, Task
from aijob_api.routing import Framework
from aijob_gateway.errors import BadRequestError
from aijob_gateway.kube.job_cache import newest_first_key
from aijob_gateway.services.listing import JobFilters, paginate

from tests.unit.gateway.factories import make_job

JOBS = sorted(
    [
        make_job("train-rf", age_minutes=5, labels={"team": "nlp"}, status={"phase": "Running"}),
        make_job("train-bert", model_type="bert", priority="high", age_minutes=4),
        make_job(
            "infer-1",
            task="inference",
            age_minutes=3,
            labels={"team": "vision"},
            status={"phase": "Succeeded", "framework": "sklearn"},
        ),
        make_job("train-tf", model_type="keras_dense", priority="low", age_minutes=2),
        make_job("train-svm", model_type="svm", age_minutes=1, status={"phase": "Queued"}),
    ],
    key=newest_first_key,
)


def names(jobs: list[AIJob]) -> list[str]:
    return [job.metadata.name or "" for job in jobs]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (JobFilters(), ["train-svm", "train-tf", "infer-1", "train-bert", "train-rf"]),
        (JobFilters(phase=Phase.PENDING), ["train-tf", "train-bert"]),
        (JobFilters(phase=Phase.RUNNING), ["train-rf"]),
        (JobFilters(task=Task.INFERENCE), ["infer-1"]),
        (JobFilters(framework=Framework.PYTORCH), ["train-bert"]),
        (JobFilters(framework=Framework.TENSORFLOW), ["train-tf"]),
        (JobFilters(framework=Framework.SKLEARN), ["train-svm", "infer-1", "train-rf"]),
        (JobFilters(priority=Priority.HIGH), ["train-bert"]),
        (JobFilters(label="team"), ["infer-1", "train-rf"]),
        (JobFilters(label="team=nlp"), ["train-rf"]),
        (JobFilters(label="team,phase!=x", task=Task.TRAINING), ["train-rf"]),
    ],
)
def test_filters(filters: JobFilters, expected: list[str]) -> None:
    page = paginate(JOBS, filters, limit=100, continue_token=None)
    assert names(page.items) == expected
    assert page.total == len(expected)
    assert page.continue_token is None


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5])
def test_pages_cover_everything_once(limit: int) -> None:
    seen: list[str] = []
    token = None
    while True:
        page = paginate(JOBS, JobFilters(), limit=limit, continue_token=token)
        seen += names(page.items)
        token = page.continue_token
        if token is None:
            break
    assert seen == names(JOBS)


def test_jobs_created_between_pages_do_not_shift_the_next_page() -> None:
    first = paginate(JOBS, JobFilters(), limit=2, continue_token=None)
    newer = sorted([make_job("brand-new", age_minutes=-10), *JOBS], key=newest_first_key)
    second = paginate(newer, JobFilters(), limit=2, continue_token=first.continue_token)
    assert names(second.items) == ["infer-1", "train-bert"]


def test_a_token_only_works_with_its_filters() -> None:
    first = paginate(JOBS, JobFilters(), limit=1, continue_token=None)
    with pytest.raises(BadRequestError, match="other filters") as error:
        paginate(JOBS, JobFilters(task=Task.TRAINING), limit=1, continue_token=first.continue_token)
    assert error.value.field == "continue"


@pytest.mark.parametrize(("label", "field"), [("team in (", "label"), ("a,,b", "label")])
def test_bad_label_selector_names_the_field(label: str, field: str) -> None:
    with pytest.raises(BadRequestError) as error:
        paginate(JOBS, JobFilters(label=label), limit=1, continue_token=None)
    assert error.value.field == field


def test_garbage_token_names_the_field() -> None:
    with pytest.raises(BadRequestError) as error:
        paginate(JOBS, JobFilters(), limit=1, continue_token="garbage")
    assert error.value.field == "continue"
