"""The real node's kubelet and containerd restarted while a real training job runs on it
(issue 15 item 7): the job finishes with a correct status. The containers live on in their
shims while both daemons are down, so the same pod finishes (one attempt, no failed one);
were it lost, the retry would have to be counted as a disruption (failedAttempts 0).

`node_daemons_stopped` brings the node back whatever happens: the kubelet starts once
containerd's CRI serves (the kubelet's own first call, answered), and is started again if
it exits before the node is Ready by its own status; the second test makes that happen
(the kubelet started before containerd, as the CRI not yet serving did in CI) and runs a
job on the node afterwards.

This stops the node's daemons for everyone: run it alone, under the exclusive lock
(`flock -x /tmp/aijob-cluster.lock flock /tmp/aijob-e2e.lock uv run pytest ...`).
"""

from __future__ import annotations

import sys
import time

import httpx
import pytest
from lightkube import Client

from tests.e2e.conftest import Release
from tests.e2e.jobs import sklearn_training, submit, unique, wait_for_phase
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import get_aijob
from tests.support.real_node import NODE_NAME, NodeRestart, node_daemon, node_daemons_stopped

EPOCHS = 160


@pytest.fixture
def node_daemons_readable() -> None:
    try:
        node_daemon("kubelet")
        node_daemon("containerd")
    except (OSError, ValueError) as error:
        pytest.skip(f"restarts the real node's daemons (hack/node/node-up.sh): {error}")


def gateway_forwarded_again(api: httpx.Client) -> None:
    """The session's port-forward (conftest's, through the kubelet) ended with the kubelet;
    wait until it is started again and the gateway answers through it."""

    def answers() -> bool:
        try:
            return api.get("/readyz", timeout=2).status_code == 200
        except httpx.TransportError as error:
            raise AssertionError(f"gateway not reachable yet: {error}") from error

    eventually(answers, timeout=Timeout.PROCESS, what="the gateway through port-forward")


def report(restart: NodeRestart, seconds: float, outcome: str) -> None:
    print(
        f"\nkubelet and containerd stopped in {restart.stop_seconds:.1f} s and started "
        f"again ({seconds:.1f} s in all): CRI serving {restart.cri_seconds or 0:.1f} s after "
        f"containerd started, the kubelet started {restart.kubelet_starts}x, the node Ready "
        f"by its status {restart.ready_seconds or 0:.1f} s after the start; {outcome}",
        file=sys.__stdout__,
        flush=True,
    )


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
    with node_daemons_stopped(kube) as restart:
        pass  # stopped, then started again at once: a restart of both
    seconds = time.monotonic() - started
    gateway_forwarded_again(api)

    done = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    status = done["status"]
    same_pod = status["podName"] == before["podName"]
    report(
        restart,
        seconds,
        f"the job finished in the {'same pod' if same_pod else 'a new pod'} "
        f"(attempts {status['attempts']}, failed {status.get('failedAttempts', 0)})",
    )
    assert restart.ready_seconds is not None
    assert status.get("failedAttempts", 0) == 0, "a node restart is no failure of the job"
    assert status["results"]["metrics"]["epochsThisAttempt"] >= 1
    assert status["results"]["metrics"]["accuracy"] > 0.8
    assert status["progress"]["percent"] == 100
    if same_pod:
        assert status["attempts"] == 1


def test_kubelet_that_exits_without_a_cri_is_started_again(
    release: Release, api: httpx.Client, kube: Client, node_daemons_readable: None
) -> None:
    started = time.monotonic()
    with node_daemons_stopped(kube, kubelet_first=True) as restart:
        pass
    seconds = time.monotonic() - started
    assert restart.kubelet_starts >= 2, "the kubelet did not exit without containerd's CRI"
    assert restart.ready_seconds is not None
    gateway_forwarded_again(api)

    name = unique("after-restart")
    submit(api, name, sklearn_training())
    done = wait_for_phase(kube, release.tenant, name, "Succeeded", Timeout.REAL_TRAINING)
    assert done["status"]["nodeName"] == NODE_NAME
    report(
        restart,
        seconds,
        f"then a job on the node Succeeded (attempts {done['status']['attempts']})",
    )
