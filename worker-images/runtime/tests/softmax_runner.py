"""A small but real runner for the runtime's tests: softmax regression in numpy.

It trains by mini-batch gradient descent on a tabular data set, so the runtime's
orchestration (progress, checkpoints, resume, save, load, inference) is tested
with a model that actually learns, without any framework installed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from aijob_worker.data.features import records_to_matrix
from aijob_worker.data.tabular import TabularData, load_tabular
from aijob_worker.hyperparameters import OptimizerHyperparameters
from aijob_worker.outputs import classification_outputs
from aijob_worker.runners import Runner
from aijob_worker.session import TrainingSession


class SoftmaxRunner(Runner):
    """Multinomial logistic regression trained with numpy."""

    framework: ClassVar[str] = "numpy"
    model_types: ClassVar[frozenset[str]] = frozenset({"softmax"})
    framework_packages: ClassVar[tuple[str, ...]] = ("numpy",)
    hyperparameters_model: ClassVar[type[OptimizerHyperparameters]] = OptimizerHyperparameters

    on_epoch: ClassVar[Any] = None
    """Tests may set a hook called with (session, epoch) after each epoch."""

    def __init__(self, model_type: str) -> None:
        super().__init__(model_type)
        self.weights: NDArray[np.float64] = np.zeros((0, 0))
        self.mean: NDArray[np.float64] = np.zeros(0)
        self.scale: NDArray[np.float64] = np.ones(0)
        self.data: TabularData | None = None
        self.feature_names: list[str] = []
        self.class_names: list[str] = []

    def prepare_training(self, session: TrainingSession) -> None:
        data = load_tabular(session.dataset, seed=session.hyperparameters.seed)
        self.data = data
        self.feature_names, self.class_names = data.feature_names, data.class_names
        self.mean = data.x_train.mean(axis=0).astype(np.float64)
        self.scale = data.x_train.std(axis=0).astype(np.float64) + 1e-6
        rng = np.random.default_rng(session.hyperparameters.seed)
        self.weights = rng.normal(0, 0.01, (data.n_features + 1, data.n_classes))
        if session.resume is not None:
            self.weights = np.load(session.resume.directory / "weights.npy")

    def _design(self, x: NDArray[np.float32]) -> NDArray[np.float64]:
        standard = (x - self.mean) / self.scale
        return np.hstack([standard, np.ones((len(x), 1))])

    def _probabilities(self, design: NDArray[np.float64]) -> NDArray[np.float64]:
        logits = design @ self.weights
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def _save_state(self, directory: Path) -> None:
        np.save(directory / "weights.npy", self.weights)

    def train(self, session: TrainingSession) -> dict[str, float]:
        assert self.data is not None
        hp = session.hyperparameters_as(OptimizerHyperparameters)
        x, y = self._design(self.data.x_train), self.data.y_train
        onehot = np.eye(self.data.n_classes)[y]
        rng = np.random.default_rng(hp.seed)
        batches = max(1, int(np.ceil(len(x) / hp.batch_size)))
        step = session.start_epoch * batches
        for epoch in range(session.start_epoch + 1, hp.epochs + 1):
            order = rng.permutation(len(x))
            for start in range(0, len(x), hp.batch_size):
                index = order[start : start + hp.batch_size]
                gradient = x[index].T @ (self._probabilities(x[index]) - onehot[index])
                self.weights -= hp.learning_rate * gradient / len(index)
                step += 1
                session.step_end(
                    epoch=epoch - 1,
                    step=step,
                    total_steps=batches * hp.epochs,
                    save=self._save_state,
                )
            accuracy = self._accuracy(self.data.x_test, self.data.y_test)
            if SoftmaxRunner.on_epoch is not None:
                SoftmaxRunner.on_epoch(session, epoch)
            session.epoch_end(
                epoch=epoch,
                total_epochs=hp.epochs,
                metrics={"accuracy": accuracy},
                save=self._save_state,
            )
        return {"accuracy": self._accuracy(self.data.x_test, self.data.y_test)}

    def _accuracy(self, x: NDArray[np.float32], y: NDArray[np.int64]) -> float:
        predicted = self._probabilities(self._design(x)).argmax(axis=1)
        return float((predicted == y).mean())

    def save(self, model_dir: Path) -> dict[str, Any]:
        np.save(model_dir / "weights.npy", self.weights)
        np.save(model_dir / "mean.npy", self.mean)
        np.save(model_dir / "scale.npy", self.scale)
        return {"featureNames": self.feature_names, "classNames": self.class_names}

    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        self.weights = np.load(model_dir / "weights.npy")
        self.mean = np.load(model_dir / "mean.npy")
        self.scale = np.load(model_dir / "scale.npy")
        self.feature_names = list(metadata["featureNames"])
        self.class_names = list(metadata["classNames"])

    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        return self._design(records_to_matrix(records, self.feature_names, offset=offset))

    def infer(self, prepared: Any) -> Any:
        return self._probabilities(prepared)

    def postprocess(self, raw: Any) -> list[Any]:
        return classification_outputs(raw, self.class_names)


def dump(value: Any) -> str:
    """JSON for an AIJOB_SPEC variable (a spec given inline, as by hand)."""
    return json.dumps(value)
