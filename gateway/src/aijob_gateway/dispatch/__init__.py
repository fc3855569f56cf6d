"""Inference dispatch: requests of an endpoint sent to its ready pods by load.

The pure, framework-free core the endpoint routes call: pods and their performance
scores (`pods`, `scoring`), the bounded priority queue (`queue`), the dispatcher
with deadlines and retries on another pod (`dispatcher`), its figures (`stats`) and
its errors, each answered as a problem document (`errors`). Pod discovery and the
HTTP transport are the caller's: it updates the `PodSet` and supplies `send`.
"""

from aijob_gateway.dispatch.contract import (
    DispatchPolicy,
    DispatchResult,
    PodReply,
    Send,
    is_pod_fault,
)
from aijob_gateway.dispatch.dispatcher import Dispatcher
from aijob_gateway.dispatch.errors import (
    DeadlineExceededError,
    DispatchError,
    NoReadyPodError,
    PodsFailedError,
    QueueFullError,
)
from aijob_gateway.dispatch.pods import Pod, PodSet, PodState
from aijob_gateway.dispatch.scoring import ScoringPolicy
from aijob_gateway.dispatch.stats import DispatchStats, LatencySummary, PodStats

__all__ = [
    "DeadlineExceededError",
    "DispatchError",
    "DispatchPolicy",
    "DispatchResult",
    "DispatchStats",
    "Dispatcher",
    "LatencySummary",
    "NoReadyPodError",
    "Pod",
    "PodReply",
    "PodSet",
    "PodState",
    "PodStats",
    "PodsFailedError",
    "QueueFullError",
    "ScoringPolicy",
    "Send",
    "is_pod_fault",
]
