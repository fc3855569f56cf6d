"""random_forest: a random forest that grows a share of its trees per stage."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from aijob_worker.hyperparameters import EpochHyperparameters, Hyperparameters
from pydantic import Field, model_validator
from sklearn.ensemble import RandomForestClassifier

from aijob_worker_sklearn.base import SklearnRunner, share


class RandomForestHyperparameters(EpochHyperparameters):
    """Trees, depth and leaf size; `epochs` is the number of growth stages."""

    epochs: Annotated[int, Field(ge=1, le=1_000, description="Growth stages.")] = 5
    n_estimators: Annotated[int, Field(ge=1, le=10_000, description="Trees in the end.")] = 100
    max_depth: Annotated[int | None, Field(ge=1, le=1_000, description="Deepest tree.")] = None
    min_samples_leaf: Annotated[int, Field(ge=1, le=100_000, description="Least leaf size.")] = 1

    @model_validator(mode="after")
    def _at_least_one_tree_per_stage(self) -> RandomForestHyperparameters:
        if self.n_estimators < self.epochs:
            raise ValueError("nEstimators must be at least epochs (each stage adds trees)")
        return self


class RandomForestRunner(SklearnRunner):
    """scikit-learn's RandomForestClassifier."""

    model_types: ClassVar[frozenset[str]] = frozenset({"random_forest"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = RandomForestHyperparameters

    def build(self, hyperparameters: Hyperparameters) -> Any:
        """A forest that keeps its trees between fits (warm start)."""
        assert isinstance(hyperparameters, RandomForestHyperparameters)
        return RandomForestClassifier(
            n_estimators=1,
            max_depth=hyperparameters.max_depth,
            min_samples_leaf=hyperparameters.min_samples_leaf,
            random_state=hyperparameters.seed,
            warm_start=True,
            n_jobs=-1,
        )

    def configure_stage(
        self, estimator: Any, hyperparameters: Hyperparameters, stage: int, stages: int
    ) -> None:
        """Grow to this stage's share of the trees."""
        assert isinstance(hyperparameters, RandomForestHyperparameters)
        estimator.set_params(n_estimators=share(hyperparameters.n_estimators, stage, stages))
