"""Structured logs, request ids and Prometheus metrics of the gateway."""
