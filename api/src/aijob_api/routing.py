"""Routing from a model type to the framework runtime that trains it.

A table, not if/else: the same routes the seed queue documented (bert/transformer/
gpt and resnet/vgg/alexnet to PyTorch, inception/mobilenet/efficientnet to
TensorFlow, random_forest/svm/logistic_regression to scikit-learn), plus the
model types the worker images implement. An explicit `spec.framework` always wins.
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Framework(StrEnum):
    """Framework runtimes a job can run on."""

    SKLEARN = "sklearn"
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    TRANSFORMERS = "transformers"


MODEL_TYPE_ROUTES: Final[Mapping[str, Framework]] = MappingProxyType(
    {
        # Natural language: transformer models run on the PyTorch + transformers image.
        "bert": Framework.PYTORCH,
        "distilbert": Framework.PYTORCH,
        "transformer": Framework.PYTORCH,
        "gpt": Framework.PYTORCH,
        "text_classifier": Framework.PYTORCH,
        # Computer vision and plain networks on PyTorch.
        "resnet": Framework.PYTORCH,
        "vgg": Framework.PYTORCH,
        "alexnet": Framework.PYTORCH,
        "mlp": Framework.PYTORCH,
        "cnn": Framework.PYTORCH,
        # TensorFlow / Keras.
        "inception": Framework.TENSORFLOW,
        "mobilenet": Framework.TENSORFLOW,
        "efficientnet": Framework.TENSORFLOW,
        "keras_dense": Framework.TENSORFLOW,
        "keras_cnn": Framework.TENSORFLOW,
        # Classic machine learning.
        "random_forest": Framework.SKLEARN,
        "svm": Framework.SKLEARN,
        "logistic_regression": Framework.SKLEARN,
        "gradient_boosting": Framework.SKLEARN,
    }
)
"""Model type (lower case) to the framework that runs it."""

DEFAULT_FRAMEWORK: Final = Framework.PYTORCH
"""Where an unknown model type goes when no framework is given (as in the seed queue)."""


def route_framework(model_type: str, framework: Framework | None = None) -> Framework:
    """Return the framework for a job: the explicit one, else the routed one, else the default."""
    if framework is not None:
        return framework
    return MODEL_TYPE_ROUTES.get(model_type.strip().lower(), DEFAULT_FRAMEWORK)
