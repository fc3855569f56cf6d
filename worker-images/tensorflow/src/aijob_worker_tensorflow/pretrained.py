"""A saved Keras model to fine-tune (`model.pretrained`, format `keras`), checked to fit the data.

The file is loaded with `keras.models.load_model` in safe mode (no arbitrary code: a
`Lambda` layer's pickled function is refused) and without its compiled state (the runner
compiles it again at the job's learning rate). It must take the data's features and
output one probability per class: otherwise, or when the file is not a `.keras` model,
bad input naming `spec.model.pretrained.uri`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
from aijob_worker.data.tabular import TabularData
from aijob_worker.errors import BadInputError
from aijob_worker.pretrained import URI_FIELD


def load_pretrained_keras(path: Path, uri: str, data: TabularData) -> Any:
    """The model in the file, if it maps the data's features to its classes."""
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # zip, HDF5, deserialisation and safe-mode errors alike
        raise BadInputError(URI_FIELD, f"{uri} is not a keras model file: {error}") from error
    inputs = _last_dimension(model.input_shape)
    outputs = _last_dimension(model.output_shape)
    if inputs != data.n_features or outputs != data.n_classes:
        raise BadInputError(
            URI_FIELD,
            f"{uri} does not fit the data: the model maps {inputs} features to {outputs} "
            f"outputs, the data has {data.n_features} features and {data.n_classes} classes",
        )
    return model


def _last_dimension(shape: Any) -> Any:
    """The size of a Keras shape's last axis (None when unknown or several tensors)."""
    if isinstance(shape, tuple) and shape and not isinstance(shape[0], tuple):
        return shape[-1]
    return None
