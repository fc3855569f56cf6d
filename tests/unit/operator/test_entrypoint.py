"""`python -m aijob_operator`: namespaces and settings from arguments and the environment."""

from __future__ import annotations

import subprocess
import sys

import pytest
from aijob_operator.__main__ import namespaces_of, parse_args
from aijob_operator.config import OperatorConfig


@pytest.mark.parametrize(
    ("argv", "environ", "namespaces"),
    [
        ([], {}, []),
        (["-n", "a", "--namespace", "b"], {}, ["a", "b"]),
        ([], {"AIJOB_OPERATOR_NAMESPACES": "x, y,,"}, ["x", "y"]),
        (["--namespace=a"], {"AIJOB_OPERATOR_NAMESPACES": "x"}, ["a"]),
        (["--all-namespaces"], {"AIJOB_OPERATOR_NAMESPACES": "x"}, []),
    ],
)
def test_namespaces(argv: list[str], environ: dict[str, str], namespaces: list[str]) -> None:
    assert namespaces_of(parse_args(argv), environ) == namespaces


def test_namespace_and_all_namespaces_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        parse_args(["-n", "a", "-A"])


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIJOB_OPERATOR_CPU_NODE_SELECTOR", '{"aijob.dev/real-node": "true"}')
    monkeypatch.setenv(
        "AIJOB_OPERATOR_CPU_TOLERATIONS", '[{"key": "aijob.dev/real-node", "operator": "Exists"}]'
    )
    monkeypatch.setenv("AIJOB_OPERATOR_ARTIFACTS_PVC", "")
    monkeypatch.setenv("AIJOB_OPERATOR_RECHECK_SECONDS", "15")
    config = OperatorConfig()
    assert config.cpu_node_selector == {"aijob.dev/real-node": "true"}
    assert config.cpu_tolerations[0].key == "aijob.dev/real-node"
    assert config.artifacts_pvc is None, "Helm renders an unset PVC as an empty string"
    assert config.recheck_seconds == 15


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIJOB_OPERATOR_CPU_TOLERATIONS", '[{"key": 3, "bogus": true}]')
    with pytest.raises(ValueError, match="cpu_tolerations"):
        OperatorConfig()


@pytest.mark.parametrize("collecting", [True, False])
def test_importing_the_package_leaves_the_collector_as_it_found_it(collecting: bool) -> None:
    """The package pauses the cyclic collector while its handlers import, then restores it."""
    statement = (
        "import gc\n"
        f"gc.enable() if {collecting} else gc.disable()\n"
        "import aijob_operator\n"
        "print(gc.isenabled())\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == str(collecting)
