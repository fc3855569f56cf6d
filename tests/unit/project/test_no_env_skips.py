"""`--no-env-skips` (tests/support/no_env_skips.py): every kind of skip becomes a failure
naming its reason, only under the option; expected failures stay expected failures."""

from __future__ import annotations

import pytest

from tests.support.no_env_skips import FAILURE_PREFIX, OPTION, failure_text, skip_reason

PLUGIN = ("-p", "tests.support.no_env_skips", "-p", "no:asyncio")
"""The inner sessions load the plugin as tests/conftest.py does (and not pytest-asyncio,
which would only warn about its settings, absent there)."""

SKIPPING_TESTS = {
    "in the test": (
        """
import pytest

def test_needs_the_real_node():
    pytest.skip("no Ready node labelled aijob.dev/real-node")
""",
        "no Ready node labelled aijob.dev/real-node",
    ),
    "by a skipif mark": (
        """
import pytest

@pytest.mark.skipif(True, reason="helm is not built")
def test_needs_helm():
    pass
""",
        "helm is not built",
    ),
    "in a fixture": (
        """
import pytest

@pytest.fixture
def gpu_nodes():
    pytest.skip("this cluster has no node with nvidia.com/gpu allocatable")

def test_needs_gpus(gpu_nodes):
    pass
""",
        "this cluster has no node with nvidia.com/gpu allocatable",
    ),
}


@pytest.mark.parametrize(
    ("longrepr", "reason"),
    [
        (("tests/x.py", 3, "Skipped: helm is not built"), "helm is not built"),
        (("tests/x.py", 3, "no prefix"), "no prefix"),
        ("a plain text", "a plain text"),
    ],
)
def test_skip_reason_reads_pytest_skip_reports(longrepr: object, reason: str) -> None:
    assert skip_reason(longrepr) == reason


def test_failure_text_names_the_option_the_place_and_the_reason() -> None:
    text = failure_text("no GPU nodes", "tests/integration/infra/test_scheduling.py::test_x")
    assert text == (
        f"skipped, but {OPTION} requires every test to run: "
        "tests/integration/infra/test_scheduling.py::test_x: no GPU nodes"
    )


@pytest.mark.parametrize(("source", "reason"), SKIPPING_TESTS.values(), ids=SKIPPING_TESTS.keys())
def test_without_the_option_a_skip_stays_a_skip(
    pytester: pytest.Pytester, source: str, reason: str
) -> None:
    pytester.makepyfile(source)
    result = pytester.runpytest(*PLUGIN, "-rs")

    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"SKIPPED *{reason}*"])


@pytest.mark.parametrize(("source", "reason"), SKIPPING_TESTS.values(), ids=SKIPPING_TESTS.keys())
def test_with_the_option_a_skip_fails_with_its_reason(
    pytester: pytest.Pytester, source: str, reason: str
) -> None:
    pytester.makepyfile(source)
    result = pytester.runpytest(*PLUGIN, OPTION, "-rA")

    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1, outcomes
    assert "skipped" not in outcomes
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"*{FAILURE_PREFIX}: *: {reason}*"])


def test_with_the_option_a_module_that_skips_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

pytest.skip("images not imported into the real node", allow_module_level=True)

def test_never_collected():
    pass
"""
    )
    skipped = pytester.runpytest(*PLUGIN)
    failed = pytester.runpytest(*PLUGIN, OPTION)

    skipped.assert_outcomes(skipped=1)
    failed.assert_outcomes(errors=1)
    assert failed.ret == pytest.ExitCode.INTERRUPTED
    failed.stdout.fnmatch_lines([f"*{FAILURE_PREFIX}: *: images not imported into the real node*"])


def test_with_the_option_expected_failures_and_passes_are_untouched(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False

def test_fine():
    pass
"""
    )
    result = pytester.runpytest(*PLUGIN, OPTION)

    result.assert_outcomes(passed=1, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
