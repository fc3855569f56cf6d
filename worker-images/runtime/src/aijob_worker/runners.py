"""Model runners as plugins: one class per family of model types, found by entry point.

A framework image registers its runners under the entry-point group
`aijob.runners`, one entry per model type (`random_forest =
"package.module:RunnerClass"`). Each runner declares
the model types it serves and implements the stages the runtime drives:

- training: `prepare_training` (data, model, resume), `train` (the epochs,
  reporting through the session), `save` (the model files);
- inference: `load` (a saved model), `prepare` (records to the model's input),
  `infer`, `postprocess` (the model's output to JSON outputs).

Adding a model type is adding a runner module and one entry-point line; the
runtime never tests a model type's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from aijob_api.pretrained import PretrainedFormat

from aijob_worker.errors import BadInputError
from aijob_worker.hyperparameters import Hyperparameters

if TYPE_CHECKING:
    from aijob_worker.session import TrainingSession

ENTRY_POINT_GROUP = "aijob.runners"
MODEL_TYPE_FIELD = "spec.model.type"


class Runner(ABC):
    """Trains and runs the models of some model types on one framework."""

    framework: ClassVar[str]
    """The framework runtime this runner belongs to (sklearn, pytorch, tensorflow)."""
    model_types: ClassVar[frozenset[str]]
    """The `spec.model.type` values this runner serves."""
    framework_packages: ClassVar[tuple[str, ...]] = ()
    """Distribution names whose versions `aijob-worker --version` prints."""
    hyperparameters_model: ClassVar[type[Hyperparameters]] = Hyperparameters
    """The hyperparameters this runner reads (unknown names are refused)."""
    pretrained_formats: ClassVar[frozenset[PretrainedFormat]] = frozenset()
    """The `spec.model.pretrained` formats it fine-tunes from (others are refused)."""
    distributed: ClassVar[bool] = False
    """Whether it trains as every process of a torchrun group (DDP) when a pod runs several
    (`spec.distributed.processesPerNode`); else the job trains in one process."""

    def __init__(self, model_type: str) -> None:
        if model_type not in self.model_types:
            raise BadInputError(
                MODEL_TYPE_FIELD, f"{model_type!r} is not served by {type(self).__name__}"
            )
        self.model_type = model_type

    def device(self) -> str:
        """Where the work runs: `cpu`, or `cuda:N` when a GPU is used."""
        return "cpu"

    # Training.
    @abstractmethod
    def prepare_training(self, session: TrainingSession) -> None:
        """Load the data, build the model, and restore `session.resume` when there is one."""

    @abstractmethod
    def train(self, session: TrainingSession) -> dict[str, float]:
        """Run the remaining epochs; return the final metrics on the held-out data."""

    @abstractmethod
    def save(self, model_dir: Path) -> dict[str, Any]:
        """Write the trained model into `model_dir`; return what `load` needs to read it."""

    # Inference.
    @abstractmethod
    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        """Load a model that `save` wrote."""

    @abstractmethod
    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        """Turn a batch of records (starting at index `offset`) into the model's input."""

    @abstractmethod
    def infer(self, prepared: Any) -> Any:
        """Run the model on a prepared batch."""

    @abstractmethod
    def postprocess(self, raw: Any) -> list[Any]:
        """Turn the model's output for a batch into one JSON value per record."""


class RunnerRegistry:
    """Model type to runner class; entry points are imported only when their type is asked for.

    Entry points are named by model type (`bert = "pkg.text:TextRunner"`), so an
    unknown type is reported without importing any framework, and a job imports
    only the framework it runs on.
    """

    def __init__(self, runners: Iterable[type[Runner]] = ()) -> None:
        self._loaders: dict[str, Callable[[], type[Runner]]] = {}
        self._loaded: dict[str, type[Runner]] = {}
        for runner in runners:
            for model_type in runner.model_types:
                other = self._loaded.get(model_type)
                if other is not None and other is not runner:
                    raise RuntimeError(
                        f"model type {model_type!r} is registered twice: "
                        f"{other.__name__} and {runner.__name__}"
                    )
                self._loaded[model_type] = runner

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> RunnerRegistry:
        """Every runner installed in this environment (imported lazily)."""
        registry = cls()
        for entry_point in entry_points(group=group):
            if entry_point.name in registry._loaders:
                raise RuntimeError(f"model type {entry_point.name!r} is registered twice")
            registry._loaders[entry_point.name] = _loader(entry_point)
        return registry

    @property
    def model_types(self) -> list[str]:
        """Every model type served here, sorted."""
        return sorted(self._loaded.keys() | self._loaders.keys())

    @property
    def runners(self) -> list[type[Runner]]:
        """The distinct runner classes (imports every entry point)."""
        classes = {self.runner_for(model_type) for model_type in self.model_types}
        return sorted(classes, key=lambda runner: runner.__name__)

    def runner_for(self, model_type: str) -> type[Runner]:
        """The runner of a model type; an unknown type is bad input naming spec.model.type."""
        runner = self._loaded.get(model_type)
        if runner is not None:
            return runner
        loader = self._loaders.get(model_type)
        if loader is None:
            served = ", ".join(self.model_types) or "none (no runner installed)"
            raise BadInputError(
                MODEL_TYPE_FIELD,
                f"unknown model type {model_type!r} for this worker image; it serves: {served}",
            )
        runner = loader()
        if model_type not in runner.model_types:
            raise RuntimeError(
                f"entry point {model_type!r} names {runner.__name__}, which does not serve it"
            )
        self._loaded[model_type] = runner
        return runner

    def framework_versions(self) -> dict[str, str]:
        """Installed versions of the frameworks the runners use."""
        versions: dict[str, str] = {}
        for runner in self.runners:
            for package in runner.framework_packages:
                try:
                    versions[package] = version(package)
                except PackageNotFoundError:
                    versions[package] = "not installed"
        return dict(sorted(versions.items()))


def _loader(entry_point: EntryPoint) -> Callable[[], type[Runner]]:
    def load() -> type[Runner]:
        runner = entry_point.load()
        if not (isinstance(runner, type) and issubclass(runner, Runner)):
            raise RuntimeError(f"entry point {entry_point.name} is not a Runner class")
        return runner

    return load
