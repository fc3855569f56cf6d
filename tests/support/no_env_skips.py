"""`--no-env-skips`: where every suite must run, a skip is a failure that says why.

The integration and e2e suites skip themselves, saying why, when the cluster lacks
what they need (the real node, the images, the GPU nodes, helm, the KWOK stages): on
a foreign cluster (`KUBECONFIG` set) that is right. On the local cluster, which
`make test` builds with all of it, such a skip would let CI pass with whole suites
unrun, so `make test` passes `--no-env-skips` there, and this plugin (loaded by
tests/conftest.py) turns every skip into a failure carrying the skip's reason: of a
test (`pytest.skip`, `skipif`, a skipping fixture), or of a whole module or directory
at collection (`allow_module_level`, `importorskip`). Expected failures (`xfail`) are
not skips and stay as they are.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

OPTION = "--no-env-skips"
FAILURE_PREFIX = f"skipped, but {OPTION} requires every test to run"


def skip_reason(longrepr: object) -> str:
    """The reason of a skip report (pytest keeps it as (path, line, "Skipped: reason"))."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def failure_text(reason: str, where: str) -> str:
    """The failure a skip becomes: the option that forbids it, where, and the skip's reason."""
    return f"{FAILURE_PREFIX}: {where}: {reason}"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the option."""
    parser.addoption(
        OPTION,
        action="store_true",
        default=False,
        help="fail every skipped test or module, with its reason (make test sets it on the "
        "local cluster, where every suite must run)",
    )


def _fail_skip(report: pytest.TestReport | pytest.CollectReport, where: str) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        report.longrepr = failure_text(skip_reason(report.longrepr), where)
        report.outcome = "failed"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A skipped test (in setup or call) is a failure under the option."""
    report = yield
    if item.config.getoption(OPTION):
        _fail_skip(report, item.nodeid)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A module or directory that skips at collection is a collection error under the option."""
    report = yield
    if collector.config.getoption(OPTION):
        _fail_skip(report, collector.nodeid or "the session")
    return report
