"""What every scikit-learn runner shares: staged training, saving, loading, predicting.

scikit-learn estimators have no epochs, so training runs in *stages* (the
`epochs` hyperparameter): ensembles grow a share of their trees per stage,
iterative solvers run a share of their iterations, each continuing from the
last (`warm_start`). Every stage ends with a progress report, held-out
accuracy, and a chance to checkpoint, so a SIGTERM costs at most one stage.
Features are standardised for the models that need it. The saved model is a
fitted `Pipeline` in a joblib file.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import joblib
import numpy as np
from aijob_worker.data.features import records_to_matrix
from aijob_worker.data.tabular import TabularData, load_tabular
from aijob_worker.hyperparameters import Hyperparameters
from aijob_worker.outputs import classification_outputs
from aijob_worker.runners import Runner
from aijob_worker.session import TrainingSession
from numpy.typing import NDArray
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

MODEL_FILE = "model.joblib"
STATE_FILE = "state.joblib"


class SklearnRunner(Runner):
    """A scikit-learn classifier trained in stages on tabular data."""

    framework: ClassVar[str] = "sklearn"
    framework_packages: ClassVar[tuple[str, ...]] = ("scikit-learn", "numpy", "scipy", "joblib")
    scale_features: ClassVar[bool] = False
    """Standardise features first (for models sensitive to their scale)."""

    def __init__(self, model_type: str) -> None:
        super().__init__(model_type)
        self.data: TabularData | None = None
        self.scaler: StandardScaler | None = None
        self.estimator: Any = None
        self.model: Any = None
        self.feature_names: list[str] = []
        self.class_names: list[str] = []

    @abstractmethod
    def build(self, hyperparameters: Hyperparameters) -> Any:
        """A new, unfitted estimator configured from the hyperparameters."""

    def configure_stage(
        self, estimator: Any, hyperparameters: Hyperparameters, stage: int, stages: int
    ) -> None:
        """Set what stage `stage` of `stages` fits (more trees, more iterations); no-op here."""

    # Training.
    def prepare_training(self, session: TrainingSession) -> None:
        """Load and split the data, fit the scaler, build (or restore) the estimator."""
        hyperparameters = session.hyperparameters_as(self.hyperparameters_model)
        data = load_tabular(session.dataset, seed=hyperparameters.seed)
        self.data = data
        self.feature_names, self.class_names = data.feature_names, data.class_names
        if session.resume is not None:
            self.scaler, self.estimator = joblib.load(session.resume.directory / STATE_FILE)
            return
        self.scaler = StandardScaler().fit(data.x_train) if self.scale_features else None
        self.estimator = self.build(hyperparameters)

    def _features(self, x: NDArray[np.float32]) -> NDArray[Any]:
        return x if self.scaler is None else np.asarray(self.scaler.transform(x))

    def _save_state(self, directory: Path) -> None:
        joblib.dump((self.scaler, self.estimator), directory / STATE_FILE)

    def train(self, session: TrainingSession) -> dict[str, float]:
        """Fit stage by stage, reporting held-out accuracy after each."""
        assert self.data is not None
        hyperparameters = session.hyperparameters_as(self.hyperparameters_model)
        stages = hyperparameters.total_epochs
        x_train, x_test = self._features(self.data.x_train), self._features(self.data.x_test)
        for stage in range(session.start_epoch + 1, stages + 1):
            self.configure_stage(self.estimator, hyperparameters, stage, stages)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.estimator.fit(x_train, self.data.y_train)
            session.epoch_end(
                epoch=stage,
                total_epochs=stages,
                metrics=self._evaluate(x_test),
                save=self._save_state,
            )
        return self._evaluate(x_test)

    def _evaluate(self, x_test: NDArray[Any]) -> dict[str, float]:
        assert self.data is not None
        predicted = self.estimator.predict(x_test)
        return {
            "accuracy": float(accuracy_score(self.data.y_test, predicted)),
            "f1Macro": float(f1_score(self.data.y_test, predicted, average="macro")),
        }

    def save(self, model_dir: Path) -> dict[str, Any]:
        """Write the fitted pipeline (scaler, estimator) and what inference needs to know."""
        steps: list[tuple[str, Any]] = [("estimator", self.estimator)]
        if self.scaler is not None:
            steps.insert(0, ("scaler", self.scaler))
        joblib.dump(Pipeline(steps), model_dir / MODEL_FILE)
        return {
            "featureNames": self.feature_names,
            "classNames": self.class_names,
            "estimator": type(self.estimator).__name__,
        }

    # Inference.
    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        """Load the pipeline (joblib: load models only from URIs you trust)."""
        self.model = joblib.load(model_dir / MODEL_FILE)
        single_threaded_prediction(self.model)
        self.feature_names = list(metadata["featureNames"])
        self.class_names = list(metadata["classNames"])

    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        """Records to a feature matrix in the training feature order."""
        return records_to_matrix(records, self.feature_names, offset=offset)

    def infer(self, prepared: Any) -> Any:
        """Class probabilities of each record."""
        return self.model.predict_proba(prepared)

    def postprocess(self, raw: Any) -> list[Any]:
        """The predicted class, its probability, and every class's probability."""
        return classification_outputs(raw, self.class_names)


def single_threaded_prediction(model: Any) -> None:
    """Predict on the calling thread: a forest trained with n_jobs=-1 would start a thread pool
    for every call, 12 ms for a single record instead of about 1 ms (served models predict a
    few records at a time)."""
    for _, step in getattr(model, "steps", [("model", model)]):
        if "n_jobs" in step.get_params(deep=False):
            step.set_params(n_jobs=1)


def share(total: int, stage: int, stages: int) -> int:
    """The part of `total` reached after `stage` of `stages`: at least 1, all of it at the end."""
    return max(1, round(total * stage / stages))
