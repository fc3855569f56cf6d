"""Thin kopf handlers: feed the caches and the work queue, start and stop the operator.

Every handler is a coroutine: kopf runs plain functions in a thread pool, and the work
queue (asyncio) must only be touched from the event loop's own thread.
"""
