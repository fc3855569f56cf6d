"""logistic_regression: multinomial logistic regression, its solver iterations split in epochs."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from aijob_worker.hyperparameters import EpochHyperparameters, Hyperparameters
from pydantic import Field
from sklearn.linear_model import LogisticRegression

from aijob_worker_sklearn.base import SklearnRunner, share


class LogisticRegressionHyperparameters(EpochHyperparameters):
    """Inverse regularisation strength `C` and solver iterations; `epochs` splits them."""

    epochs: Annotated[int, Field(ge=1, le=1_000, description="Training stages.")] = 5
    c: Annotated[
        float, Field(alias="C", gt=0, le=1e6, description="Inverse regularisation strength.")
    ] = 1.0
    max_iter: Annotated[
        int, Field(ge=1, le=100_000, description="Solver iterations in all stages together.")
    ] = 200


class LogisticRegressionRunner(SklearnRunner):
    """scikit-learn's LogisticRegression (lbfgs) on standardised features."""

    model_types: ClassVar[frozenset[str]] = frozenset({"logistic_regression"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = LogisticRegressionHyperparameters
    scale_features: ClassVar[bool] = True

    def build(self, hyperparameters: Hyperparameters) -> Any:
        """A model that starts each stage from the last stage's coefficients."""
        assert isinstance(hyperparameters, LogisticRegressionHyperparameters)
        return LogisticRegression(
            C=hyperparameters.c,
            max_iter=1,
            random_state=hyperparameters.seed,
            warm_start=True,
        )

    def configure_stage(
        self, estimator: Any, hyperparameters: Hyperparameters, stage: int, stages: int
    ) -> None:
        """Run this stage's share of the iterations, from where the last stage stopped."""
        assert isinstance(hyperparameters, LogisticRegressionHyperparameters)
        done = share(hyperparameters.max_iter, stage - 1, stages) if stage > 1 else 0
        estimator.set_params(max_iter=max(1, share(hyperparameters.max_iter, stage, stages) - done))
