"""The operator under test: run in-process by kopf's KopfRunner, scoped to the test's namespace.

Other engineers run tests on the same cluster at the same time: the operator here
watches only the test's own namespace (never cluster-wide) and runs standalone. The
fixtures are imported by the conftest of each suite that needs an operator (the
operator's own, and the gateway's for the jobs it runs on endpoints).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator

import pytest
from kopf.testing import KopfRunner

OPERATOR_ENV = {
    # The suites of the operator's logic run on simulated pods with file:// URIs below the
    # artifact mount: the single-tenant store. test_storage_confinement.py runs s3 mode.
    "AIJOB_OPERATOR_STORAGE_MODE": "hostPath",
    "AIJOB_OPERATOR_METRICS_PORT": "0",
    "AIJOB_OPERATOR_LOG_FORMAT": "plain",
    "AIJOB_OPERATOR_RECHECK_SECONDS": "20",
    "AIJOB_OPERATOR_DEPENDENCY_GRACE_SECONDS": "120",
    # The simulated pods' stages read these (hack/cluster/stages.yaml).
    "AIJOB_OPERATOR_POD_ANNOTATION_PREFIXES": '["aijob.dev/fake-"]',
}


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The operator's settings for one test (a test may change them before `operator` starts)."""
    for key, value in OPERATOR_ENV.items():
        monkeypatch.setenv(key, value)
    return dict(OPERATOR_ENV)


@pytest.fixture
def operator(
    namespace: str,
    aijob_crd: str,
    priority_classes: dict[str, int],
    operator_env: dict[str, str],
) -> Iterator[KopfRunner]:
    """The aijob operator, in-process, watching only this test's namespace."""
    os.environ["AIJOB_OPERATOR_NAMESPACES"] = namespace  # its informers; kopf gets --namespace
    args = ["run", "--standalone", "--namespace", namespace, "-m", "aijob_operator"]
    runner = KopfRunner(args, timeout=60)
    # A daemon thread: an operator that does not stop fails its test, and must not also keep
    # the test process alive after the session (CI would wait out its whole time limit).
    runner._thread.daemon = True
    try:
        with runner:
            yield runner
    except Exception as error:
        if runner._thread.is_alive():
            raise AssertionError(f"{error} It waits in:\n{_stack_of(runner)}") from error
        raise
    finally:
        del os.environ["AIJOB_OPERATOR_NAMESPACES"]
    assert runner.exit_code == 0, runner.output


def _stack_of(runner: KopfRunner) -> str:
    """Where the runner's thread is now: what kept the operator from stopping."""
    frame = sys._current_frames().get(runner._thread.ident or 0)
    return "".join(traceback.format_stack(frame)) if frame else "(the thread has no frame)"
