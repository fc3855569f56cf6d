"""TensorFlow/Keras runners for the aijob worker: dense and convolutional classifiers.

Registered under the `aijob.runners` entry-point group in this package's
pyproject.toml. Importing the package quiets TensorFlow's start-up logging.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_HOME", os.path.join(tempfile.gettempdir(), "keras"))
