"""The operator's status server on a real API server, operator in-process: real pod-bound
tokens (TokenRequest, bound to KWOK pods), real HTTPS, real TokenReviews, real writes.

Shown: reports land in the status, coalesced (many quick reports, a few writes) and the
final one written before it is answered; the refusals (no token, another audience, a token
of a deleted pod: 401; another job's pod, a report naming another pod: 403; another uid:
409; oversized: 413; a phase: 422), nothing written, each counted by reason; a flood from
one pod is limited (429, Retry-After) while another pod's reports still land.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aijob_api.conditions import Phase
from aijob_api.status_report import MAX_REPORT_BYTES, STATUS_AUDIENCE, STATUS_PATH_PREFIX
from lightkube import Client
from lightkube.models.authentication_v1 import BoundObjectReference, TokenRequestSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Pod, ServiceAccount
from prometheus_client import REGISTRY

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout, eventually
from tests.support.tls import self_signed_pair

RUNS_LONG = simulated({"aijob.dev/fake-run-seconds": "600"})
RATE, BURST = 5, 20
INTERVAL = 1.0


@dataclass
class Server:
    """The in-process operator's status server, as a worker reaches it."""

    url: str
    ca: Path

    def client(self) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.ca))
        return httpx.Client(base_url=self.url, verify=context, timeout=10)


@pytest.fixture
def server(operator_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Server:
    """The status server's settings (a test certificate, a free port); set before `operator`."""
    pair = self_signed_pair(tmp_path, "aijob-operator-status")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name, value in {
        "STATUS_TLS_CERT_FILE": str(pair.cert),
        "STATUS_TLS_KEY_FILE": str(pair.key),
        "STATUS_HOST": "127.0.0.1",
        "STATUS_PORT": str(port),
        "STATUS_WRITE_INTERVAL_SECONDS": str(INTERVAL),
        "STATUS_POD_RATE": str(RATE),
        "STATUS_POD_BURST": str(BURST),
    }.items():
        monkeypatch.setenv(f"AIJOB_OPERATOR_{name}", value)
    return Server(f"https://127.0.0.1:{port}", pair.cert)


@pytest.fixture
def http(server: Server, operator: Any) -> Iterator[httpx.Client]:
    """An HTTPS client of the running server (the operator started after the settings)."""
    with server.client() as client:

        def answers() -> bool:
            try:
                return client.get(f"{STATUS_PATH_PREFIX}/x/y").status_code == 401
            except httpx.TransportError:
                return False

        eventually(
            answers,
            timeout=Timeout.PROCESS,
            what="the status server answering",
        )
        yield client


@dataclass
class Worker:
    """A running job's pod, as its worker would report."""

    job: str
    uid: str
    pod: str
    pod_uid: str
    service_account: str

    def path(self, job: str | None = None) -> str:
        return f"{STATUS_PATH_PREFIX}/{{ns}}/{job or self.job}"


def start(aijobs: AIJobs, name: str) -> Worker:
    """An AIJob whose KWOK pod runs for ten minutes; its worker's identity."""
    aijobs.create(manifest(name, aijobs.namespace, podTemplate=RUNS_LONG))
    running = aijobs.wait_phase(name, Phase.RUNNING, timeout=Timeout.SIMULATED_JOB)
    (pod,) = [
        p for p in aijobs.pods(name) if p.metadata and p.metadata.name == running.status.pod_name
    ]
    assert pod.metadata is not None
    assert pod.spec is not None
    uid = running.metadata.uid
    assert uid is not None
    return Worker(
        name, uid, str(pod.metadata.name), str(pod.metadata.uid),
        pod.spec.serviceAccountName or "default",
    )  # fmt: skip


def token(kube: Client, namespace: str, worker: Worker, audience: str = STATUS_AUDIENCE) -> str:
    """A real token bound to the worker's pod (TokenRequest), for `audience`, 600 s."""
    request = ServiceAccount.Token(
        metadata=ObjectMeta(),
        spec=TokenRequestSpec(
            audiences=[audience],
            expirationSeconds=600,
            boundObjectRef=BoundObjectReference(
                kind="Pod", apiVersion="v1", name=worker.pod, uid=worker.pod_uid
            ),
        ),
    )
    answer = kube.create(request, name=worker.service_account, namespace=namespace)
    assert answer.status is not None
    return str(answer.status.token)


def report(worker: Worker, sequence: int, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"uid": worker.uid, "pod": worker.pod, "sequence": sequence}
    body.update(fields)
    return body


def say(figures: str) -> None:
    """A measured figure, to the real stdout (the in-process operator's runner captures
    `sys.stdout` while it runs); shown with `pytest -s`."""
    print(f"\n{figures}", file=sys.__stdout__, flush=True)


def counted(result: str) -> float:
    return (
        REGISTRY.get_sample_value("aijob_operator_status_reports_total", {"result": result}) or 0.0
    )


def writes(kind: str) -> float:
    labels = {"kind": kind, "outcome": "written"}
    return REGISTRY.get_sample_value("aijob_operator_status_report_writes_total", labels) or 0.0


def post(
    http: httpx.Client, namespace: str, path: str, tok: str | None, body: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http.post(path.format(ns=namespace), content=content, headers=headers)


def test_reports_land_coalesced_and_the_final_one_is_written_before_its_answer(
    aijobs: AIJobs, kube: Client, http: httpx.Client
) -> None:
    namespace = aijobs.namespace
    worker = start(aijobs, "landing")
    tok = token(kube, namespace, worker)
    coalesced_before, final_before = writes("coalesced"), writes("final")
    quick = 15
    started = time.monotonic()
    for sequence in range(1, quick + 1):
        progress = {"percent": sequence, "stage": "training", "metrics": {"loss": 1 / sequence}}
        answer = post(
            http,
            namespace,
            worker.path(),
            tok,
            report(worker, sequence, status={"progress": progress}),
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"sequence": sequence, "written": False}
    sent_in = time.monotonic() - started
    landed = aijobs.wait(
        "landing",
        lambda job: job.status.progress is not None and job.status.progress.percent == quick,
        timeout=Timeout.API,
        what="the last quick report's progress",
    )
    assert landed.status.progress is not None
    assert landed.status.progress.metrics == {"loss": pytest.approx(1 / quick)}
    assert landed.status.phase == Phase.RUNNING  # the operator's, untouched
    made = writes("coalesced") - coalesced_before
    # One write at once, then at most one per interval while they came, and the last.
    assert 1 <= made <= 2 + sent_in / INTERVAL, (made, sent_in)

    stale = post(
        http, namespace, worker.path(), tok, report(worker, 3, status={"progress": {"percent": 3}})
    )
    assert stale.json() == {"sequence": 3, "written": False}
    final = post(
        http, namespace, worker.path(), tok,
        report(worker, quick + 1, final=True, status={"results": {"metrics": {"accuracy": 0.93}}},
               outcome={"exitCode": 0, "message": "done"}),
    )  # fmt: skip
    assert final.status_code == 200, final.text
    assert final.json() == {"sequence": quick + 1, "written": True}
    now = aijobs.get("landing")  # written before the answer: no wait
    assert now.status.results is not None
    assert now.status.results.metrics == {"accuracy": 0.93}
    assert now.status.progress is not None
    assert now.status.progress.percent == quick  # the stale report was dropped
    assert writes("final") - final_before == 1

    share = http.get(worker.path().format(ns=namespace), headers={"Authorization": f"Bearer {tok}"})
    assert share.status_code == 200, share.text
    assert share.headers["X-AIJob-UID"] == worker.uid
    assert share.json()["results"]["metrics"] == {"accuracy": 0.93}
    assert "phase" not in share.json()
    say(f"{quick} reports in {sent_in:.2f}s -> {made:.0f} coalesced write(s), final at once")


def test_bad_reports_are_refused_counted_and_nothing_is_written(
    aijobs: AIJobs, kube: Client, http: httpx.Client
) -> None:
    namespace = aijobs.namespace
    mine, theirs = start(aijobs, "mine"), start(aijobs, "theirs")
    tok = token(kube, namespace, mine)
    progress = {"status": {"progress": {"percent": 50}}}
    before = {reason: counted(reason) for reason in
              ("unauthenticated", "forbidden", "conflict", "too_large", "invalid")}  # fmt: skip

    def refused(path: str, token_: str | None, body: Any, status: int) -> dict[str, Any]:
        answer = post(http, namespace, path, token_, body)
        assert answer.status_code == status, answer.text
        return dict(answer.json())

    assert (
        refused(mine.path(), None, report(mine, 1, **progress), 401)["reason"] == "unauthenticated"
    )
    api_token = token(kube, namespace, mine, audience="https://kubernetes.default.svc")
    refused(mine.path(), api_token, report(mine, 1, **progress), 401)  # another audience
    # My pod's token, for the other job (its uid, its URL): not its pod.
    refused(theirs.path(), tok, report(theirs, 1, pod=mine.pod, **progress), 403)
    # My token at my URL, naming the other job's pod.
    refused(mine.path(), tok, report(mine, 1, pod=theirs.pod, **progress), 403)
    refused(mine.path(), tok, report(mine, 1, uid="not-this-aijobs-uid", **progress), 409)
    big = json.dumps(report(mine, 1, **progress)).encode() + b" " * MAX_REPORT_BYTES
    assert refused(mine.path(), tok, big, 413)["reason"] == "too_large"
    forged = refused(mine.path(), tok, report(mine, 1, status={"phase": "Succeeded"}), 422)
    assert forged["message"].startswith("status.phase"), forged
    refused(mine.path(), tok, report(mine, 1, status={"progress": {"percent": 101}}), 422)

    # A token bound to a pod that was deleted since is refused too.
    doomed = token(kube, namespace, theirs)
    kube.delete(Pod, theirs.pod, namespace=namespace, grace_period=0)
    eventually(
        lambda: theirs.pod not in {p.metadata.name for p in aijobs.pods("theirs") if p.metadata},
        timeout=Timeout.API, what="the pod gone",
    )  # fmt: skip
    refused(theirs.path(), doomed, report(theirs, 1, **progress), 401)

    after = {reason: counted(reason) - before[reason] for reason in before}
    assert after == {
        "unauthenticated": 3,
        "forbidden": 2,
        "conflict": 1,
        "too_large": 1,
        "invalid": 2,
    }
    for name in ("mine", "theirs"):
        assert aijobs.get(name).status.progress is None, name


def test_a_flooding_pod_is_limited_and_another_pods_reports_still_land(
    aijobs: AIJobs, kube: Client, http: httpx.Client, server: Server
) -> None:
    namespace = aijobs.namespace
    flooder, quiet = start(aijobs, "flood"), start(aijobs, "quiet")
    flood_token, quiet_token = token(kube, namespace, flooder), token(kube, namespace, quiet)
    outcomes: dict[int, int] = {}
    retry_after: set[str] = set()
    stop = threading.Event()

    def flood() -> None:
        with server.client() as client:
            sequence = 0
            while not stop.is_set():
                sequence += 1
                body = report(flooder, sequence, status={"progress": {"percent": sequence % 100}})
                answer = post(client, namespace, flooder.path(), flood_token, body)
                outcomes[answer.status_code] = outcomes.get(answer.status_code, 0) + 1
                if answer.status_code == 429:
                    retry_after.add(answer.headers.get("Retry-After", ""))

    thread = threading.Thread(target=flood, daemon=True)
    started = time.monotonic()
    thread.start()
    latencies: list[float] = []
    try:
        for sequence in range(1, 11):
            begun = time.monotonic()
            body = report(quiet, sequence, status={"progress": {"percent": sequence * 10}})
            answer = post(http, namespace, quiet.path(), quiet_token, body)
            latencies.append(time.monotonic() - begun)
            assert answer.status_code == 200, answer.text
            time.sleep(0.3)  # a worker's pace, well under the rate
    finally:
        stop.set()
        thread.join(timeout=30)
    elapsed = time.monotonic() - started
    accepted, limited = outcomes.get(200, 0), outcomes.get(429, 0)
    assert set(outcomes) <= {200, 429}, outcomes
    assert limited > accepted, outcomes
    assert accepted <= BURST + RATE * elapsed + 1, (accepted, elapsed)
    assert retry_after == {"1"}, retry_after
    aijobs.wait(
        "quiet",
        lambda job: job.status.progress is not None and job.status.progress.percent == 100,
        timeout=Timeout.API,
        what="the quiet pod's last report",
    )
    latencies.sort()
    assert latencies[-1] < 1.0, latencies
    assert counted("rate_limited") >= limited
    say(
        f"flood {elapsed:.1f}s: {accepted} accepted, {limited} refused 429; "
        f"the other pod: 10/10 accepted, latency p50 {latencies[4] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
