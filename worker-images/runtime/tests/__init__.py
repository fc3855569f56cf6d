"""Tests of the shared worker runtime (run in the runtime's own environment)."""
