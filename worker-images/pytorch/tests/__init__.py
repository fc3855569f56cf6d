"""Tests of the PyTorch + transformers worker image (run in its own environment)."""
