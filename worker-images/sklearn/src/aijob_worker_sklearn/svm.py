"""svm: a support-vector classifier, trained in one pass (it has no epochs)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from aijob_worker.hyperparameters import Hyperparameters
from pydantic import Field
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC

from aijob_worker_sklearn.base import SklearnRunner


class SVMHyperparameters(Hyperparameters):
    """Regularisation, kernel and kernel width; an SVM trains in one pass, without epochs."""

    c: Annotated[
        float, Field(alias="C", gt=0, le=1e6, description="Regularisation: 1/strength.")
    ] = 1.0
    kernel: Annotated[
        Literal["rbf", "linear", "poly", "sigmoid"], Field(description="Kernel function.")
    ] = "rbf"
    gamma: Annotated[
        Literal["scale", "auto"] | Annotated[float, Field(gt=0)],
        Field(description="Kernel width: scale, auto, or a positive number."),
    ] = "scale"


class SVMRunner(SklearnRunner):
    """scikit-learn's SVC, Platt-calibrated for probabilities, on standardised features."""

    model_types: ClassVar[frozenset[str]] = frozenset({"svm"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = SVMHyperparameters
    scale_features: ClassVar[bool] = True

    def build(self, hyperparameters: Hyperparameters) -> Any:
        """An SVC fitted on all rows, with a sigmoid calibration fitted by cross-validation."""
        assert isinstance(hyperparameters, SVMHyperparameters)
        classifier = SVC(
            C=hyperparameters.c, kernel=hyperparameters.kernel, gamma=hyperparameters.gamma
        )
        return CalibratedClassifierCV(classifier, method="sigmoid", ensemble=False)
