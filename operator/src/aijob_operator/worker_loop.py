"""The reconcile workers' loop: take a key, reconcile it, retry it on failure, forever.

Shared by the AIJob and the AIEndpoint reconcilers. A lost race on a status write
(`ConflictError`) is reconciled again at once from the newer state; any other failure
is logged and retried after the queue's exponential back-off; a success resets it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aijob_kube.errors import ConflictError

from aijob_operator import metrics
from aijob_operator.store import Key
from aijob_operator.workqueue import WorkQueue

logger = logging.getLogger(__name__)


async def run_reconcile_worker(
    queue: WorkQueue[Key],
    reconcile: Callable[[Key], Awaitable[None]],
    *,
    kind: str = "AIJob",
    observe: bool = True,
) -> None:
    """Take keys from `queue` and `reconcile` them, forever; `observe` feeds the AIJob metrics."""
    while True:
        key, waited = await queue.get()
        if observe:
            metrics.WORKQUEUE_WAIT_SECONDS.observe(waited)
        started = time.perf_counter()
        outcome = "ok"
        try:
            await reconcile(key)
            queue.forget(key)
        except asyncio.CancelledError:
            queue.done(key)
            raise
        except ConflictError:
            outcome = "conflict"
            queue.add(key)
        except Exception:
            outcome = "error"
            delay = queue.retry(key)
            logger.exception("reconciling %s %s/%s failed; retrying in %.1fs", kind, *key, delay)
        finally:
            if observe:
                metrics.RECONCILE_SECONDS.labels(outcome=outcome).observe(
                    time.perf_counter() - started
                )
        queue.done(key)
