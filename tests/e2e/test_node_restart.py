"""The real node's kubelet and containerd restarted while a real training job runs on it
(issue 15 item 7): the job finishes with a correct status. The containers live on in their
shims while both daemons are down, so the same pod finishes (one attempt, no failed one);
were it lost, the retry would have to be counted as a disruption (failedAttempts 0).

This stops the node's daemons for everyone: run it alone, under the exclusive lock
(`flock -x /tmp/aijob-cluster.lock flock /tmp/aijob-e2e.lock uv run pytest ...`).
"""

from __future__ import annotations

import sys
import time

import httpx
import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Node

from tests.e2e.conftest import Release
from tests.e2e.jobs import sklearn_training, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob
from tests.support.real_node import node_daemon, node_daemons_stopped

EPOCHS = 160


@pytest.fixture
def node_daemons_readable() -> None:
    try:
        node_daemon("kubelet")
        node_daemon("containerd")
    except (OSError, ValueError) as error:
        pytest.skip(f"restarts the real node's daemons (hack/node/node-up.sh): {error}")


def node_ready(kube: Client) -> bool:
    node = kube.get(Node, "aijob-node-0")
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def test_kubelet_and_containerd_restarted_mid_run(
    release: Release, api: httpx.Client, kube: Client, node_daemons_readable: None
) -> None:
    name = unique("node-restart")
    spec = sklearn_training(nEstimators=1600, epochs=EPOCHS)
    spec["dataset"] = {"name": "digits", "testFraction": 0.2}
    submit(api, name, spec)

    def training() -> dict[str, object]:
        status = get_aijob(kube, release.tenant, name).get("status") or {}
        assert status.get("phase") == "Running", status.get("phase")
        epoch = (status.get("progress") or {}).get("epoch") or 0
        assert 0 < epoch < EPOCHS, f"epoch {epoch}"
        return dict(status)

    before = eventually(training, timeout=Timeout.REAL_TRAINING, what="training under way")
    started = time.monotonic()
    with node_daemons_stopped():
        pass  # stopped, then started again at once: a restart of both
    restarted = time.monotonic()
    eventually(lambda: node_ready(kube), timeout=Timeout.REAL_POD, what="the node Ready again")
    ready = time.monotonic()

    done = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    status = done["status"]
    same_pod = status["podName"] == before["podName"]
    print(
        f"\nkubelet and containerd stopped and started again in {restarted - started:.1f} s, "
        f"node Ready {ready - restarted:.1f} s later; the job finished in the "
        f"{'same pod' if same_pod else 'a new pod'} (attempts {status['attempts']}, "
        f"failed {status.get('failedAttempts', 0)})",
        file=sys.__stdout__,
        flush=True,
    )
    assert status.get("failedAttempts", 0) == 0, "a node restart is no failure of the job"
    assert status["results"]["metrics"]["epochsThisAttempt"] >= 1
    assert status["results"]["metrics"]["accuracy"] > 0.8
    assert status["progress"]["percent"] == 100
    if same_pod:
        assert status["attempts"] == 1
