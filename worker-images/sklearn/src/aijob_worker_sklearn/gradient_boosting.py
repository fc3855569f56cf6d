"""gradient_boosting: gradient-boosted trees, a share of the boosting stages per epoch."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from aijob_worker.hyperparameters import EpochHyperparameters, Hyperparameters
from pydantic import Field, model_validator
from sklearn.ensemble import GradientBoostingClassifier

from aijob_worker_sklearn.base import SklearnRunner, share


class GradientBoostingHyperparameters(EpochHyperparameters):
    """Boosting stages, shrinkage, depth and row sampling; `epochs` splits the stages."""

    epochs: Annotated[int, Field(ge=1, le=1_000, description="Training stages.")] = 5
    n_estimators: Annotated[int, Field(ge=1, le=10_000, description="Boosting stages.")] = 100
    learning_rate: Annotated[float, Field(gt=0, le=1, description="Shrinkage per stage.")] = 0.1
    max_depth: Annotated[int, Field(ge=1, le=100, description="Depth of each tree.")] = 3
    subsample: Annotated[float, Field(gt=0, le=1, description="Share of rows per tree.")] = 1.0

    @model_validator(mode="after")
    def _at_least_one_stage_per_epoch(self) -> GradientBoostingHyperparameters:
        if self.n_estimators < self.epochs:
            raise ValueError("nEstimators must be at least epochs (each epoch adds stages)")
        return self


class GradientBoostingRunner(SklearnRunner):
    """scikit-learn's GradientBoostingClassifier."""

    model_types: ClassVar[frozenset[str]] = frozenset({"gradient_boosting"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = GradientBoostingHyperparameters

    def build(self, hyperparameters: Hyperparameters) -> Any:
        """A booster that continues from its fitted stages (warm start)."""
        assert isinstance(hyperparameters, GradientBoostingHyperparameters)
        return GradientBoostingClassifier(
            n_estimators=1,
            learning_rate=hyperparameters.learning_rate,
            max_depth=hyperparameters.max_depth,
            subsample=hyperparameters.subsample,
            random_state=hyperparameters.seed,
            warm_start=True,
        )

    def configure_stage(
        self, estimator: Any, hyperparameters: Hyperparameters, stage: int, stages: int
    ) -> None:
        """Boost up to this epoch's share of the stages."""
        assert isinstance(hyperparameters, GradientBoostingHyperparameters)
        estimator.set_params(n_estimators=share(hyperparameters.n_estimators, stage, stages))
