"""The routing table of the seed FAQ: model type to framework, an explicit choice wins."""

from __future__ import annotations

import pytest
from aijob_api.routing import DEFAULT_FRAMEWORK, MODEL_TYPE_ROUTES, Framework, route_framework


@pytest.mark.parametrize(
    ("model_type", "framework"),
    [
        # The seed FAQ's routing examples and supported model types.
        ("bert", Framework.PYTORCH),
        ("transformer", Framework.PYTORCH),
        ("gpt", Framework.PYTORCH),
        ("resnet", Framework.PYTORCH),
        ("vgg", Framework.PYTORCH),
        ("alexnet", Framework.PYTORCH),
        ("inception", Framework.TENSORFLOW),
        ("mobilenet", Framework.TENSORFLOW),
        ("efficientnet", Framework.TENSORFLOW),
        ("random_forest", Framework.SKLEARN),
        ("svm", Framework.SKLEARN),
        ("logistic_regression", Framework.SKLEARN),
        # Model types the worker images add.
        ("gradient_boosting", Framework.SKLEARN),
        ("mlp", Framework.PYTORCH),
        ("cnn", Framework.PYTORCH),
        ("distilbert", Framework.PYTORCH),
        ("text_classifier", Framework.PYTORCH),
        ("keras_dense", Framework.TENSORFLOW),
        ("keras_cnn", Framework.TENSORFLOW),
        # Case and whitespace do not matter; unknown types go to the default, as in the seed.
        ("  BERT ", Framework.PYTORCH),
        ("Random_Forest", Framework.SKLEARN),
        ("xgboost_someday", DEFAULT_FRAMEWORK),
    ],
)
def test_routes(model_type: str, framework: Framework) -> None:
    assert route_framework(model_type) is framework


@pytest.mark.parametrize("explicit", list(Framework))
def test_explicit_framework_wins(explicit: Framework) -> None:
    assert route_framework("random_forest", explicit) is explicit


def test_every_route_is_lower_case() -> None:
    assert all(key == key.strip().lower() for key in MODEL_TYPE_ROUTES)
