"""Shared test support: the cluster fixture's helpers, eventually() and named timeouts."""
