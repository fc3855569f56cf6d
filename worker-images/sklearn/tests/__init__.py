"""Tests of the scikit-learn worker image (run in its own environment)."""
