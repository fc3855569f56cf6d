"""Checkpoint pruning: the newest N stay, older ones and those of an abandoned run go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aijob_worker.checkpoints import CheckpointStore, checkpoint_order
from aijob_worker.job import run_job
from aijob_worker.runners import RunnerRegistry
from aijob_worker.signals import StopFlag
from aijob_worker.storage import storage_for
from tests.conftest import offline_env, read_status


def saved(store: CheckpointStore, tmp_path: Path, epoch: int, step: int | None = None) -> Any:
    directory = tmp_path / "staging"
    directory.mkdir(exist_ok=True)
    (directory / "state.bin").write_bytes(f"{epoch}-{step}".encode())
    return store.save(directory, epoch=epoch, step=step)


def checkpoint_dirs(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "checkpoints").iterdir())


@pytest.mark.parametrize(
    ("name", "order"),
    [
        ("epoch-00003", (3, -1)),
        ("epoch-00003-step-40", (3, 40)),
        ("epoch-12345", (12345, -1)),
        ("notes", None),
        ("epoch-3-step-", None),
    ],
)
def test_checkpoint_order(name: str, order: tuple[int, int] | None) -> None:
    assert checkpoint_order(name) == order


def test_prune_keeps_the_current_and_the_ones_before_it(tmp_path: Path) -> None:
    store = CheckpointStore(f"file://{tmp_path}/job", model_type="softmax", framework="numpy")
    for epoch in range(1, 7):
        saved(store, tmp_path, epoch)
    saved(store, tmp_path, 3, step=40)  # interrupted a third of the way into epoch 4
    (tmp_path / "job" / "checkpoints" / "notes").mkdir()  # not a checkpoint: left alone
    current = saved(store, tmp_path, 5, step=99)

    deleted = store.prune(current, keep=3)

    assert checkpoint_dirs(tmp_path / "job") == [
        "epoch-00004",
        "epoch-00005",
        "epoch-00005-step-99",
        "notes",
    ]
    assert sorted(uri.rsplit("/", 1)[-1] for uri in deleted) == [
        "epoch-00001",
        "epoch-00002",
        "epoch-00003",
        "epoch-00003-step-40",
        "epoch-00006",  # after the current one: left by a run that started over
    ]


def test_keep_one_leaves_only_the_current(tmp_path: Path) -> None:
    store = CheckpointStore(f"file://{tmp_path}/job", model_type="softmax", framework="numpy")
    for epoch in (1, 2):
        saved(store, tmp_path, epoch)
    current = saved(store, tmp_path, 3)
    store.prune(current, keep=1)
    assert checkpoint_dirs(tmp_path / "job") == ["epoch-00003"]
    assert storage_for(current.uri).exists(current.uri)


def test_a_checkpoint_outside_the_store_prunes_nothing(tmp_path: Path) -> None:
    store = CheckpointStore(f"file://{tmp_path}/job", model_type="softmax", framework="numpy")
    saved(store, tmp_path, 1)
    other = CheckpointStore(f"file://{tmp_path}/other", model_type="softmax", framework="numpy")
    assert store.prune(saved(other, tmp_path, 9), keep=1) == []
    assert checkpoint_dirs(tmp_path / "job") == ["epoch-00001"]


def training(**hyperparameters: Any) -> dict[str, Any]:
    return {
        "task": "training",
        "model": {
            "type": "softmax",
            "hyperparameters": {"epochs": 8, "learningRate": 1.0, "seed": 1, **hyperparameters},
        },
        "dataset": {"name": "iris"},
    }


@pytest.mark.parametrize(
    ("hyperparameters", "left"),
    [
        ({"checkpointEveryEpochs": 1}, ["epoch-00005", "epoch-00006", "epoch-00007"]),
        ({"checkpointEveryEpochs": 1, "keepCheckpoints": 1}, ["epoch-00007"]),
        (
            {"checkpointEveryEpochs": 2, "keepCheckpoints": 5},
            ["epoch-00002", "epoch-00004", "epoch-00006"],
        ),
    ],
)
def test_a_training_job_keeps_its_newest_checkpoints(
    tmp_path: Path, registry: RunnerRegistry, hyperparameters: dict[str, Any], left: list[str]
) -> None:
    env = offline_env(tmp_path, training(**hyperparameters))
    assert run_job(env, stop=StopFlag(), registry=registry) == 0
    assert checkpoint_dirs(tmp_path / "artifacts") == left
    assert read_status(tmp_path)["checkpoint"]["uri"].endswith(left[-1])


def test_keep_checkpoints_must_be_at_least_one(tmp_path: Path, registry: RunnerRegistry) -> None:
    env = offline_env(tmp_path, training(keepCheckpoints=0))
    assert run_job(env, stop=StopFlag(), registry=registry) == 65
    assert (tmp_path / "termination-log").read_text() == (
        "bad input: spec.model.hyperparameters.keepCheckpoints: "
        "Input should be greater than or equal to 1"
    )
