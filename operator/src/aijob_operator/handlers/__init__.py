"""Thin kopf handlers: feed the caches and the work queue, start and stop the operator."""
