"""The model types aijob knows, and the routing from a model type to its framework runtime.

One table, not if/else: `MODEL_TYPES` names every model type, the framework it is
routed to when `spec.framework` is left out (the seed queue's routes: bert/transformer/
gpt and resnet/vgg/alexnet to PyTorch, inception/mobilenet/efficientnet to TensorFlow,
random_forest/svm/logistic_regression to scikit-learn, plus the types the worker
images add) and every framework runtime that serves it. The routing, the CRD's
description of `spec.model.type`, and the checks of the operator's catalog, the worker
images' runners and docs/api.md all come from it. An explicit `spec.framework` wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Framework(StrEnum):
    """Framework runtimes a job can run on."""

    SKLEARN = "sklearn"
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    TRANSFORMERS = "transformers"


@dataclass(frozen=True)
class ModelType:
    """One model type: where it is routed and which runtimes serve it."""

    name: str
    routed_to: Framework
    """The framework a job of this type runs on when `spec.framework` is left out."""
    also_served_by: tuple[Framework, ...] = ()
    """Other runtimes whose images serve the type (the text models run under transformers)."""

    @property
    def served_by(self) -> tuple[Framework, ...]:
        """Every runtime that serves the type, the routed one first."""
        return (self.routed_to, *self.also_served_by)


_TEXT: Final = (Framework.TRANSFORMERS,)

MODEL_TYPES: Final[tuple[ModelType, ...]] = (
    # Classic machine learning.
    ModelType("random_forest", Framework.SKLEARN),
    ModelType("svm", Framework.SKLEARN),
    ModelType("logistic_regression", Framework.SKLEARN),
    ModelType("gradient_boosting", Framework.SKLEARN),
    # Plain networks and computer vision on PyTorch.
    ModelType("mlp", Framework.PYTORCH),
    ModelType("cnn", Framework.PYTORCH),
    ModelType("resnet", Framework.PYTORCH),
    ModelType("vgg", Framework.PYTORCH),
    ModelType("alexnet", Framework.PYTORCH),
    # A TorchScript model saved by your own code (spec.code), for inference and serving.
    ModelType("torchscript", Framework.PYTORCH),
    # Natural language: transformer models on the PyTorch + transformers image.
    ModelType("bert", Framework.PYTORCH, _TEXT),
    ModelType("distilbert", Framework.PYTORCH, _TEXT),
    ModelType("gpt", Framework.PYTORCH, _TEXT),
    ModelType("transformer", Framework.PYTORCH, _TEXT),
    ModelType("text_classifier", Framework.PYTORCH, _TEXT),
    # TensorFlow / Keras.
    ModelType("keras_dense", Framework.TENSORFLOW),
    ModelType("keras_cnn", Framework.TENSORFLOW),
    ModelType("mobilenet", Framework.TENSORFLOW),
    ModelType("efficientnet", Framework.TENSORFLOW),
    ModelType("inception", Framework.TENSORFLOW),
)
"""Every model type aijob's worker images implement, grouped by the framework it routes to."""

MODEL_TYPE_ROUTES: Final[Mapping[str, Framework]] = MappingProxyType(
    {model_type.name: model_type.routed_to for model_type in MODEL_TYPES}
)
"""Model type (lower case) to the framework that runs it."""

DEFAULT_FRAMEWORK: Final = Framework.PYTORCH
"""Where an unknown model type goes when no framework is given (as in the seed queue)."""


def route_framework(model_type: str, framework: Framework | None = None) -> Framework:
    """Return the framework for a job: the explicit one, else the routed one, else the default."""
    if framework is not None:
        return framework
    return MODEL_TYPE_ROUTES.get(model_type.strip().lower(), DEFAULT_FRAMEWORK)


def model_types_served_by(framework: Framework) -> tuple[str, ...]:
    """The model types a framework runtime serves, in the table's order."""
    return tuple(entry.name for entry in MODEL_TYPES if framework in entry.served_by)


def model_type_description() -> str:
    """The CRD's description of `spec.model.type`: the types, grouped by where they route."""
    groups: dict[Framework, list[str]] = {}
    for entry in MODEL_TYPES:
        groups.setdefault(entry.routed_to, []).append(entry.name)
    listed = "; ".join(f"{', '.join(names)} ({framework})" for framework, names in groups.items())
    return (
        f"Model type: {listed}. Routes the framework when spec.framework is left out; "
        "the runtime catalog names what each image serves."
    )
