"""The metric history through the progress reporter and whole offline jobs: written, bounded in
how often, and continued by the next attempt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aijob_api.metric_history import MetricAxis

from aijob_worker.job import run_job
from aijob_worker.progress import HISTORY_FIELD, WORKER_WIRE_FIELDS, ProgressReporter
from aijob_worker.runners import RunnerRegistry
from aijob_worker.session import TrainingSession
from aijob_worker.signals import StopFlag
from tests.conftest import offline_env, read_status
from tests.softmax_runner import SoftmaxRunner
from tests.test_job import TRAINING
from tests.test_progress import CountingWriter, wait_until


def history_patches(writer: CountingWriter) -> list[dict[str, Any]]:
    return [patch[HISTORY_FIELD] for patch in writer.patches if HISTORY_FIELD in patch]


def test_the_history_is_the_workers_to_write() -> None:
    assert HISTORY_FIELD in WORKER_WIRE_FIELDS


def test_every_report_lands_in_the_history_written_with_the_final_progress(
    tmp_path: Path,
) -> None:
    writer = CountingWriter(tmp_path / "status.json")
    reporter = ProgressReporter(writer, interval=0.05, history_interval=3600).start()
    for step in range(1, 501):
        reporter.report(step=step, total_steps=500, metrics={"loss": 1 / step, "lr": 0.1})
    reporter.close()
    # Once when first due, then only with the synchronous final write.
    assert 1 <= len(history_patches(writer)) <= 2
    history = writer.read_status().metric_history
    assert history is not None
    loss = history.find("loss")
    assert loss is not None
    assert loss.axis is MetricAxis.STEP
    assert (loss.x[0], loss.x[-1]) == (1, 500)
    assert (max(loss.values), min(loss.values)) == (1.0, 0.002)
    assert len(loss.x) <= 200
    assert [series.name for series in history.series] == ["loss", "lr"]


def test_a_changed_history_is_written_when_due_without_more_reports(tmp_path: Path) -> None:
    writer = CountingWriter(tmp_path / "status.json")
    reporter = ProgressReporter(writer, interval=0, history_interval=0.3).start()
    reporter.report(epoch=1, total_epochs=9, metrics={"accuracy": 0.5})
    wait_until(lambda: len(history_patches(writer)) == 1)
    reporter.report(epoch=2, total_epochs=9, metrics={"accuracy": 0.75})

    def second_point_written() -> bool:
        history = writer.read_status().metric_history
        return history is not None and history.series[0].x == [1, 2]

    wait_until(second_point_written)
    reporter.close(final=False)
    patches = history_patches(writer)
    assert len(patches) == 2
    assert patches[-1]["series"][0]["values"] == [0.5, 0.75]


def test_a_checkpoint_write_carries_the_history(tmp_path: Path) -> None:
    writer = CountingWriter(tmp_path / "status.json")
    reporter = ProgressReporter(writer, interval=3600, history_interval=3600)
    reporter.report(epoch=1, metrics={"loss": 0.9})
    assert reporter.write_now({"checkpoint": {"uri": "file:///c/epoch-1", "epoch": 1}})
    assert writer.patches[-1][HISTORY_FIELD]["series"][0]["values"] == [0.9]
    assert reporter.write_now({"checkpoint": {"uri": "file:///c/epoch-1", "epoch": 1}})
    assert HISTORY_FIELD not in writer.patches[-1], "an unchanged history is not written again"


def test_the_next_attempt_continues_the_history(tmp_path: Path, registry: RunnerRegistry) -> None:
    def stop_after_third(session: TrainingSession, epoch: int) -> None:
        if epoch == 3:
            session.stop.request("test")

    SoftmaxRunner.on_epoch = stop_after_third
    env = offline_env(tmp_path, TRAINING)
    assert run_job(env, stop=StopFlag(), registry=registry) == 143
    first = read_status(tmp_path)["metricHistory"]["series"][0]
    assert first["name"] == "accuracy"
    assert first["axis"] == "step"
    steps_per_epoch = first["x"][0]
    assert first["x"] == [steps_per_epoch * epoch for epoch in (1, 2, 3)]

    # The first attempt had gone on past its checkpoint and reported epochs 4 and 5
    # before it died: the resumed attempt repeats them, and its points replace those.
    status_file = tmp_path / "status.json"
    status = json.loads(status_file.read_text())
    series = status["metricHistory"]["series"][0]
    series["x"] += [steps_per_epoch * 4, steps_per_epoch * 5]
    series["values"] += [-1.0, -1.0]
    series["seconds"] += [series["seconds"][-1]] * 2
    status_file.write_text(json.dumps(status))

    SoftmaxRunner.on_epoch = None
    assert run_job(env, stop=StopFlag(), registry=registry) == 0
    final = read_status(tmp_path)["metricHistory"]
    (accuracy,) = final["series"]
    assert accuracy["x"] == [steps_per_epoch * epoch for epoch in range(1, 9)]
    assert accuracy["values"][:3] == first["values"]
    assert -1.0 not in accuracy["values"]
    assert accuracy["values"][-1] == round(
        read_status(tmp_path)["results"]["metrics"]["accuracy"], 6
    )
    assert final["startedAt"] == status["metricHistory"]["startedAt"]
    assert accuracy["seconds"] == sorted(accuracy["seconds"])
