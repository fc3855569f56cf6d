"""What the Keras runners share: data, training with the progress callback, saving, loading.

The network takes the raw features and standardises them with a
`Normalization` layer adapted on the training rows, so the saved model is
self-contained. Training is `model.fit` with `AIJobProgressCallback`, which
reports every step and epoch and checkpoints on SIGTERM; a checkpoint is the
whole model in the `.keras` format (weights and optimizer state), and a
resumed attempt continues with `initial_epoch`. Fine-tuning (`model.pretrained`,
format `keras`) starts from a saved `.keras` model instead of a new one
(`aijob_worker_tensorflow.pretrained`), compiled again at the job's learning rate.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf
from aijob_api.pretrained import PretrainedFormat
from aijob_worker.data.features import records_to_matrix
from aijob_worker.data.tabular import TabularData, load_tabular
from aijob_worker.hyperparameters import OptimizerHyperparameters
from aijob_worker.integrations.keras import AIJobProgressCallback
from aijob_worker.outputs import classification_outputs
from aijob_worker.pretrained import fetch_file
from aijob_worker.runners import Runner
from aijob_worker.session import TrainingSession

from aijob_worker_tensorflow.pretrained import load_pretrained_keras

MODEL_FILE = "model.keras"
CHECKPOINT_FILE = "checkpoint.keras"


def tensorflow_device() -> str:
    """`cuda:0` when TensorFlow sees a GPU, else `cpu`."""
    return "cuda:0" if tf.config.list_physical_devices("GPU") else "cpu"


class KerasRunner(Runner):
    """A Keras classifier on tabular data (or images flattened into rows)."""

    framework: ClassVar[str] = "tensorflow"
    framework_packages: ClassVar[tuple[str, ...]] = ("tensorflow-cpu", "keras", "numpy")
    pretrained_formats: ClassVar[frozenset[PretrainedFormat]] = frozenset({PretrainedFormat.KERAS})

    def __init__(self, model_type: str) -> None:
        super().__init__(model_type)
        self.data: TabularData | None = None
        self.model: Any = None
        self.feature_names: list[str] = []
        self.class_names: list[str] = []

    def device(self) -> str:
        """Where TensorFlow places the work."""
        return tensorflow_device()

    @abstractmethod
    def layers(self, data: TabularData, hyperparameters: OptimizerHyperparameters) -> list[Any]:
        """The hidden layers between the normalised input and the softmax output."""

    def build(self, data: TabularData, hyperparameters: OptimizerHyperparameters) -> Any:
        """A compiled model: normalisation, the runner's layers, a softmax over the classes."""
        normalization = keras.layers.Normalization()
        normalization.adapt(data.x_train)
        model = keras.Sequential(
            [
                keras.Input(shape=(data.n_features,)),
                normalization,
                *self.layers(data, hyperparameters),
                keras.layers.Dense(data.n_classes, activation="softmax"),
            ]
        )
        self.compile(model, hyperparameters)
        return model

    @staticmethod
    def compile(model: Any, hyperparameters: OptimizerHyperparameters) -> None:
        """Adam at the job's learning rate, cross entropy over the class indices."""
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=hyperparameters.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

    def prepare_training(self, session: TrainingSession) -> None:
        """Seed, load the data, build the model or restore the checkpoint."""
        hyperparameters = session.hyperparameters_as(OptimizerHyperparameters)
        keras.utils.set_random_seed(hyperparameters.seed)
        data = load_tabular(session.dataset, seed=hyperparameters.seed)
        self.check_data(data)
        self.data = data
        self.feature_names, self.class_names = data.feature_names, data.class_names
        pretrained = session.spec.model.pretrained
        if session.resume is not None:
            self.model = keras.models.load_model(session.resume.directory / CHECKPOINT_FILE)
        elif pretrained is not None:
            path = fetch_file(pretrained, session.work_dir, suffix=".keras")
            self.model = load_pretrained_keras(path, str(pretrained.uri), data)
            self.compile(self.model, hyperparameters)
        else:
            self.model = self.build(data, hyperparameters)

    def check_data(self, data: TabularData) -> None:
        """Refuse data the model cannot take (with a BadInputError); any data is fine here."""

    def _save_state(self, directory: Path) -> None:
        self.model.save(directory / CHECKPOINT_FILE)

    def train(self, session: TrainingSession) -> dict[str, float]:
        """`model.fit` from the resumed epoch, reporting through the callback."""
        assert self.data is not None
        hyperparameters = session.hyperparameters_as(OptimizerHyperparameters)
        callback = AIJobProgressCallback(session=session, save=self._save_state)
        if session.start_epoch < hyperparameters.epochs:
            self.model.fit(
                self.data.x_train,
                self.data.y_train,
                epochs=hyperparameters.epochs,
                initial_epoch=session.start_epoch,
                batch_size=hyperparameters.batch_size,
                validation_data=(self.data.x_test, self.data.y_test),
                callbacks=[callback],
                verbose=0,
            )
        loss, accuracy = self.model.evaluate(
            self.data.x_test, self.data.y_test, batch_size=256, verbose=0
        )
        return {"accuracy": float(accuracy), "loss": float(loss)}

    def save(self, model_dir: Path) -> dict[str, Any]:
        """The model in the `.keras` format, and the feature and class names."""
        self.model.save(model_dir / MODEL_FILE)
        return {"featureNames": self.feature_names, "classNames": self.class_names}

    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        """Load a `.keras` model (safe mode: no arbitrary code)."""
        self.model = keras.models.load_model(model_dir / MODEL_FILE, compile=False)
        self.feature_names = list(metadata["featureNames"])
        self.class_names = list(metadata["classNames"])

    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        """Records to a float32 feature matrix."""
        return records_to_matrix(records, self.feature_names, offset=offset)

    def infer(self, prepared: Any) -> Any:
        """Class probabilities."""
        return np.asarray(self.model(prepared, training=False))

    def postprocess(self, raw: Any) -> list[Any]:
        """Prediction, confidence and class probabilities per record."""
        return classification_outputs(raw, self.class_names)
