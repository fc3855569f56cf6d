"""Where the operator writes a task's results (a job on an endpoint) in its tenant's store,
and what the file holds; in hostPath mode nothing is written (the outputs stay inline)."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from aijob_api.storage import StorageMode, artifact_path_problem
from aijob_operator.artifacts import ResultWriter, results_document, results_key
from aijob_operator.builders.pod import PodSettings


def test_a_tasks_results_lie_below_its_own_artifact_prefix() -> None:
    key = results_key("task-1")
    assert key == "jobs/task-1/results/task-1.json"
    assert artifact_path_problem(key.removeprefix("jobs/task-1/")) is None


def test_the_file_holds_the_task_id_and_its_outputs_in_order() -> None:
    document = json.loads(results_document("task-1", [{"p": 1}, [2, 3], "x"]))
    assert document == {"task_id": "task-1", "outputs": [{"p": 1}, [2, 3], "x"]}


@pytest.mark.asyncio
async def test_hostpath_mode_writes_nothing_and_reads_no_secret() -> None:
    api: Any = None  # any call to it would fail: hostPath mode must not make one
    writer = ResultWriter(cast(Any, api), PodSettings(storage_mode=StorageMode.HOST_PATH))
    assert await writer.write("team-a", "task-1", [1]) is None
