"""Jobs on endpoints and the seeds' inference routes: bodies in, AIJobs and answers out (pure)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from aijob_api.endpoint import AIEndpoint
from aijob_api.priority import Priority
from aijob_gateway.dispatch.stats import DispatchStats, LatencySummary, PodStats
from aijob_gateway.services import compat_coordinator as coordinator
from aijob_gateway.services import compat_tasks
from aijob_gateway.services.async_inference import endpoint_for, endpoint_job, endpoint_model_type
from aijob_gateway.services.inference_answers import Prediction
from pydantic import JsonValue

from tests.unit.gateway.factories import BASE_TIME, make_job

SETOSA: JsonValue = [5.1, 3.5, 1.4, 0.2]


def endpoint(name: str = "iris", ready: int = 1, **spec: Any) -> AIEndpoint:
    return AIEndpoint.model_validate(
        {
            "metadata": {"name": name, "namespace": "team-a"},
            "spec": {"model": {"source": {"trainingJob": "iris-forest"}}, **spec},
            "status": {"readyReplicas": ready, "framework": "sklearn"},
        }
    )


def on_endpoint(name: str, status: dict[str, Any], annotations: dict[str, str]) -> Any:
    job = make_job(name, task="inference", status=status, annotations=annotations)
    spec = job.spec.model_copy(
        update={"endpoint": "iris", "model": job.spec.model.model_copy(update={"source": None})}
    )
    return job.model_copy(update={"spec": spec})


# --- the AIJob of an asynchronous request ---


def test_an_async_request_is_an_inference_job_naming_the_endpoint() -> None:
    new = endpoint_job(
        endpoint(priority="high"),
        [SETOSA],
        model_type="random_forest",
        client_request_id="r-1",
        annotations={"k": "v"},
    )
    spec = new.spec
    assert (spec.task, spec.endpoint, spec.model.source) == ("inference", "iris", None)
    assert spec.input is not None
    assert spec.input.records == [SETOSA]
    assert spec.priority is Priority.HIGH, "the endpoint's priority when the request names none"
    assert (new.client_request_id, new.annotations) == ("r-1", {"k": "v"})
    override = endpoint_job(endpoint(), [SETOSA], model_type="svm", priority=Priority.LOW)
    assert override.spec.priority is Priority.LOW


@pytest.mark.parametrize(
    ("spec", "training_type", "expected"),
    [
        ({"model": {"source": {"uri": "file:///m"}, "type": "svm"}}, None, "svm"),
        ({}, "gradient_boosting", "gradient_boosting"),
        ({}, None, "random_forest"),  # the first type its runtime (sklearn) serves
    ],
)
def test_the_model_type_of_a_job_on_an_endpoint(
    spec: dict[str, Any], training_type: str | None, expected: str
) -> None:
    assert endpoint_model_type(endpoint(**spec), training_type) == expected


def test_an_endpoint_is_found_by_name_then_by_task_type_preferring_ready_replicas() -> None:
    endpoints = [
        endpoint("text-a", ready=1, taskType="text_classification"),
        endpoint("text-b", ready=3, taskType="text_classification"),
        endpoint("iris"),
    ]
    assert endpoint_for(endpoints, name="iris", task_type="iris") == endpoints[2]
    assert endpoint_for(endpoints, task_type="text_classification") == endpoints[1]
    assert endpoint_for(endpoints, name="nope", task_type="image_classification") is None


# --- seed 004: the coordinator ---


def test_a_synchronous_answer_has_the_seeds_inference_response_shape() -> None:
    predicted = Prediction(
        model_name="iris",
        model_checksum=None,
        outputs=[{"prediction": "setosa", "confidence": 1.0}],
        timings={"inferMs": 1.0, "totalMs": 324.0},
        pod="iris-7d9-x2",
        attempts=2,
    )
    answer = coordinator.infer_response("test-1", "text_classification", "iris", predicted)
    assert answer.model_dump(exclude_none=True) == {
        "request_id": "test-1",
        "worker_id": "iris-7d9-x2",
        "result": {
            "prediction": "setosa",
            "confidence": 1.0,
            "worker_id": "iris-7d9-x2",
            "task_type": "text_classification",
            "model_info": "iris",
        },
        "latency": 0.324,
        "retry_count": 1,
    }


def test_an_output_that_is_not_an_object_is_the_prediction() -> None:
    result = coordinator.seed_result("spam", worker_id="p", task_type="t", model_info="m")
    assert result == {"prediction": "spam", "worker_id": "p", "task_type": "t", "model_info": "m"}


@pytest.mark.parametrize(
    ("status", "seed_status", "extra"),
    [
        ({}, "queued", {}),
        (
            {"phase": "Running", "startTime": BASE_TIME.isoformat()},
            "processing",
            {"started_at": BASE_TIME.timestamp()},
        ),
        ({"phase": "Failed", "message": "endpoint iris does not exist"}, "failed", {}),
        ({"phase": "Cancelled", "message": "cancelled by the user"}, "cancelled", {}),
    ],
)
def test_an_async_result_says_where_the_request_is(
    status: dict[str, Any], seed_status: str, extra: dict[str, Any]
) -> None:
    job = on_endpoint("job-1", status, coordinator.seed_request_annotation("r-1", "iris"))
    answer = coordinator.result_of("r-1", job).model_dump(exclude_none=True)
    assert answer["status"] == seed_status
    assert answer["job"] == "job-1"
    for key, value in extra.items():
        assert answer[key] == value
    if seed_status in ("failed", "cancelled"):
        assert answer["error"] == status["message"]
    assert "result" not in answer


def test_a_completed_async_result_is_the_seeds_answer() -> None:
    finished = BASE_TIME + timedelta(seconds=1.5)
    status = {
        "phase": "Succeeded",
        "podName": "iris-0",
        "failedAttempts": 1,
        "completionTime": finished.isoformat(),
        "results": {"outputs": [{"prediction": "setosa"}]},
    }
    annotations = coordinator.seed_request_annotation("r-1", "text_classification")
    answer = coordinator.result_of("r-1", on_endpoint("job-1", status, annotations))
    assert answer.status == "completed"
    assert (answer.worker_id, answer.retry_count, answer.latency) == ("iris-0", 1, 1.5)
    assert answer.result == {
        "prediction": "setosa",
        "worker_id": "iris-0",
        "task_type": "text_classification",
        "model_info": "iris",
    }


def pod(name: str, *, ready: bool = True, outstanding: int = 0, faults: int = 0) -> PodStats:
    return PodStats(
        name=name,
        address="http://10.0.0.1:8080",
        ready=ready,
        outstanding=outstanding,
        concurrency=4,
        latency_ms=250.0,
        error_rate=0.0,
        score=12.345,
        served=10,
        faults=faults,
    )


def stats(pods: list[PodStats], **counts: Any) -> DispatchStats:
    figures: dict[str, Any] = {
        "queue_limit": 100,
        "queued": 0,
        "queued_by_priority": {},
        "queue_high_watermark": 0,
        "in_flight": 0,
        "in_progress": 0,
        "received": 0,
        "answered": 0,
        "rejected": 0,
        "cancelled": 0,
        "retries": 0,
        "errors": {},
        "latency": LatencySummary(0, None, None),
        "latency_by_priority": {},
        "ready_pods": sum(p.ready for p in pods),
        "busy_pods": 0,
        "concurrency": 4,
        "pods": pods,
    }
    figures.update(counts)
    return DispatchStats(**figures)


def test_the_figures_in_the_seeds_shapes_add_up_over_endpoints_and_async_jobs() -> None:
    snapshots = [
        (
            endpoint("iris", taskType="iris"),
            stats(
                [pod("iris-0"), pod("iris-1", outstanding=4)],
                queued=2,
                in_flight=5,
                received=10,
                answered=8,
                rejected=1,
                errors={"timeout": 1},
                queue_high_watermark=7,
            ),
        ),
        (
            endpoint("text"),
            stats([pod("text-0", ready=False, faults=2), pod("text-1", ready=False)]),
        ),
    ]
    jobs = [
        on_endpoint("waiting", {"phase": "Pending"}, {}),
        on_endpoint("running", {"phase": "Running"}, {}),
        on_endpoint("done", {"phase": "Succeeded"}, {}),
        make_job("not-on-an-endpoint"),
    ]
    queue = coordinator.queue_stats(snapshots, jobs)
    assert (queue.queue_size, queue.active_tasks) == (3, 6)
    assert (queue.total_workers, queue.healthy_workers, queue.busy_workers) == (4, 1, 1)
    assert queue.error_workers == 1
    assert queue.stats.model_dump() == {
        "total_requests": 10,
        "successful_requests": 7,
        "failed_requests": 2,
        "queue_high_watermark": 7,
    }
    assert queue.workers_detail["iris-1"].status == "busy"
    assert queue.workers_detail["text-1"].status == "starting"
    assert queue.workers_detail["iris-0"].avg_latency == 0.25
    assert queue.workers_detail["iris-0"].task_type == "iris"

    status = coordinator.system_status(snapshots, jobs)
    assert status.workers["text-0"].model_loaded is False
    assert status.workers["iris-0"].status == "healthy"

    performance = coordinator.workers_performance(snapshots).root
    assert performance["iris-1"].load_percentage == 100.0
    assert (performance["iris-1"].max_tasks, performance["iris-1"].performance_score) == (4, 12.35)
    assert performance["text-0"].status == "error"


# --- seed 003: tasks ---


@pytest.mark.parametrize(
    ("value", "records", "single"),
    [
        (
            {"image_url": "https://example.com/a.jpg"},
            [{"image_url": "https://example.com/a.jpg"}],
            True,
        ),
        ("I love this", ["I love this"], True),
        (SETOSA, [SETOSA], True),
        ([SETOSA, SETOSA], [SETOSA, SETOSA], False),
        ([{"text": "a"}, {"text": "b"}], [{"text": "a"}, {"text": "b"}], False),
    ],
)
def test_a_tasks_input_is_one_record_or_a_list_of_them(
    value: Any, records: list[Any], single: bool
) -> None:
    assert compat_tasks.task_records(value) == (records, single)


@pytest.mark.parametrize(
    ("phase", "state"),
    [
        (None, "PENDING"),
        ("Pending", "PENDING"),
        ("Running", "RUNNING"),
        ("Succeeded", "SUCCESS"),
        ("Failed", "FAILURE"),
        ("Cancelled", "REVOKED"),
    ],
)
def test_a_tasks_status_is_in_celerys_words(phase: str | None, state: str) -> None:
    job = on_endpoint("job-1", {"phase": phase} if phase else {}, {})
    assert compat_tasks.task_state(job) == state


@pytest.mark.parametrize(("single", "result"), [(True, {"p": 1}), (False, [{"p": 1}, {"p": 2}])])
def test_a_succeeded_task_has_its_timing_and_result(single: bool, result: Any) -> None:
    outputs = [{"p": 1}] if single else [{"p": 1}, {"p": 2}]
    status = {
        "phase": "Succeeded",
        "results": {
            "outputs": outputs,
            "timings": {"prepareMs": 1.5, "inferMs": 8.0, "postprocessMs": 0.25},
        },
    }
    job = on_endpoint("job-1", status, compat_tasks.task_annotation("iris", single))
    view = compat_tasks.task_view(job).model_dump()
    assert view == {
        "task_id": "job-1",
        "status": "SUCCESS",
        "timing": {"prepare_ms": 1.5, "infer_ms": 8.0, "upload_ms": 0.25},
        "result": result,
        "error": None,
    }
    assert json.loads(job.metadata.annotations["aijob.dev/seed-request"])["model"] == "iris"


STORED_URI = "s3://aijob-team-a/jobs/job-1/results/job-1.json"


@pytest.mark.parametrize(
    ("outputs", "single", "inline"),
    [([{"p": 1}], True, {"p": 1}), ([[1], [2]], False, [[1], [2]]), (None, True, None)],
)
def test_a_task_whose_outputs_were_stored_answers_the_seeds_s3_key(
    outputs: Any, single: bool, inline: Any
) -> None:
    results: dict[str, Any] = {
        "outputUri": STORED_URI,
        "artifacts": [{"name": "results/job-1.json", "uri": STORED_URI, "sha256": "e" * 64}],
    }
    if outputs is not None:
        results["outputs"] = outputs
    status = {"phase": "Succeeded", "results": results}
    job = on_endpoint("job-1", status, compat_tasks.task_annotation("iris", single))
    expected: dict[str, Any] = {
        "s3_key": "jobs/job-1/results/job-1.json",
        "bucket": "aijob-team-a",
        "url": "/v1/jobs/job-1/artifacts/results/job-1.json",
        "sha256": "e" * 64,
    }
    if outputs is not None:
        expected["output"] = inline
    assert compat_tasks.task_view(job).result == expected


@pytest.mark.parametrize(
    "uri",
    [
        "s3://aijob-team-a/jobs/job-10/results/job-1.json",  # another job's prefix
        "s3://aijob-team-a/jobs/job-1/../x.json",
        "file:///var/lib/aijob/artifacts/team-a/job-1/results.json",
    ],
)
def test_outputs_elsewhere_are_no_s3_key(uri: str) -> None:
    status = {"phase": "Succeeded", "results": {"outputs": [{"p": 1}], "outputUri": uri}}
    job = on_endpoint("job-1", status, compat_tasks.task_annotation("iris", True))
    assert compat_tasks.task_view(job).result == {"p": 1}


def test_a_failed_task_says_why() -> None:
    job = on_endpoint("job-1", {"phase": "Failed", "message": "spec.input.records[0]: bad"}, {})
    view = compat_tasks.task_view(job)
    assert (view.status, view.error, view.result, view.timing) == (
        "FAILURE",
        "spec.input.records[0]: bad",
        None,
        None,
    )
