"""Tests of the TensorFlow/Keras worker image (run in its own environment)."""
