"""The import contracts `make lint` checks hold for the sources, and a wrong import across
them breaks the build: lint-imports runs on a copy of the sources with one import added.

The copy comes first on PYTHONPATH (before the workspace's editable installs), so
import-linter's graph is built from it; nothing is imported, only parsed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cluster import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTROL_PLANE_CONFIG = REPO_ROOT / "pyproject.toml"
CONTROL_PLANE_PACKAGES = {
    name: REPO_ROOT / project / "src" / name
    for project, name in [
        ("api", "aijob_api"),
        ("kube", "aijob_kube"),
        ("operator", "aijob_operator"),
        ("gateway", "aijob_gateway"),
        ("cli", "aijob_cli"),
    ]
}
WORKER_CONFIG = REPO_ROOT / "worker-images" / ".importlinter"
WORKER_PACKAGES = {
    "aijob_worker": REPO_ROOT / "worker-images/runtime/src/aijob_worker",
    "aijob_worker_sklearn": REPO_ROOT / "worker-images/sklearn/src/aijob_worker_sklearn",
    "aijob_worker_pytorch": REPO_ROOT / "worker-images/pytorch/src/aijob_worker_pytorch",
    "aijob_worker_tensorflow": REPO_ROOT / "worker-images/tensorflow/src/aijob_worker_tensorflow",
}


@dataclass(frozen=True)
class WrongImport:
    """An import a contract forbids, added to one module of the copy."""

    module: str
    """The importing module's file, relative to the packages' parent directory."""
    statement: str
    contract: str
    """The name of the contract it breaks."""


def copy_packages(packages: dict[str, Path], target: Path) -> Path:
    """Copy each package's directory under `target`; returns `target`."""
    for name, directory in packages.items():
        shutil.copytree(directory, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def lint_imports(config: Path, sources: Path) -> str:
    """lint-imports with `config` over the packages under `sources`: exit code and output."""
    result = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=sources,
        env={**os.environ, "PYTHONPATH": str(sources)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def broken(contract: str, output: str) -> bool:
    """Whether lint-imports reported `contract` broken (its lines wrap long names)."""
    return f"{contract} BROKEN" in " ".join(output.split())


def add_import(sources: Path, wrong: WrongImport) -> None:
    module = sources / wrong.module
    module.write_text(module.read_text() + f"\n{wrong.statement}\n")


def test_the_worker_contracts_hold_for_the_sources(tmp_path: Path) -> None:
    output = lint_imports(WORKER_CONFIG, copy_packages(WORKER_PACKAGES, tmp_path))

    assert output.startswith("exit 0"), output
    assert "4 kept, 0 broken" in output, output


WORKER_WRONG_IMPORTS = [
    WrongImport(
        "aijob_worker/job.py",
        "import aijob_worker_sklearn.base",
        "The shared runtime never imports a framework image's package",
    ),
    WrongImport(
        "aijob_worker/progress.py",
        "import torch",
        "The runtime imports a deep-learning framework only in its integrations",
    ),
    WrongImport(
        "aijob_worker_sklearn/base.py",
        "from aijob_worker_pytorch.device import torch_device",
        "The framework images' packages never import each other",
    ),
    WrongImport(
        "aijob_worker_tensorflow/dense.py",
        "import aijob_gateway",
        "No worker package imports the operator, the gateway or the CLI",
    ),
]


@pytest.mark.parametrize("wrong", WORKER_WRONG_IMPORTS, ids=lambda wrong: wrong.module)
def test_a_wrong_worker_import_breaks_its_contract(tmp_path: Path, wrong: WrongImport) -> None:
    sources = copy_packages(WORKER_PACKAGES, tmp_path)
    add_import(sources, wrong)

    output = lint_imports(WORKER_CONFIG, sources)

    assert output.startswith("exit 1"), output
    assert broken(wrong.contract, output), output
    assert "3 kept, 1 broken" in output, output


def test_the_control_plane_contracts_hold_for_the_sources(tmp_path: Path) -> None:
    output = lint_imports(CONTROL_PLANE_CONFIG, copy_packages(CONTROL_PLANE_PACKAGES, tmp_path))

    assert output.startswith("exit 0"), output
    assert " 0 broken" in output, output
    assert "Operator layers" in output, output
    assert "Gateway layers" in output, output


OPERATOR_LAYERS = (
    "Operator layers: kopf handlers, process wiring, reconcilers, Kubernetes I/O, pure modules"
)
OPERATOR_PURE = (
    "The operator's pure modules use no Kubernetes client and no kopf (lightkube's types only)"
)
GATEWAY_LAYERS = (
    "Gateway layers: app, routers, dependencies, process wiring, services, Kubernetes and pods"
)
CONTROL_PLANE_WRONG_IMPORTS = [
    WrongImport("aijob_operator/decide.py", "from lightkube import AsyncClient", OPERATOR_PURE),
    WrongImport("aijob_operator/status.py", "import kopf", OPERATOR_PURE),
    WrongImport("aijob_operator/views.py", "from aijob_kube import errors", OPERATOR_PURE),
    WrongImport(
        "aijob_operator/builders/job.py", "import aijob_operator.reconciler", OPERATOR_LAYERS
    ),
    WrongImport("aijob_operator/kube.py", "import aijob_operator.handlers", OPERATOR_LAYERS),
    WrongImport("aijob_gateway/services/nodes.py", "import aijob_gateway.routers", GATEWAY_LAYERS),
    WrongImport("aijob_gateway/kube/cluster.py", "import aijob_gateway.services", GATEWAY_LAYERS),
    WrongImport(
        "aijob_gateway/routers/nodes.py",
        "from aijob_gateway.kube import cluster",
        "The gateway's routers reach Kubernetes only through its services",
    ),
    WrongImport(
        "aijob_cli/render.py",
        "import aijob_gateway.schemas",
        "The CLI and the gateway are independent",
    ),
]


@pytest.mark.parametrize("wrong", CONTROL_PLANE_WRONG_IMPORTS, ids=lambda wrong: wrong.module)
def test_a_wrong_import_across_a_layer_breaks_the_control_plane_contracts(
    tmp_path: Path, wrong: WrongImport
) -> None:
    sources = copy_packages(CONTROL_PLANE_PACKAGES, tmp_path)
    add_import(sources, wrong)

    output = lint_imports(CONTROL_PLANE_CONFIG, sources)

    assert output.startswith("exit 1"), output
    assert broken(wrong.contract, output), output


def test_a_new_module_outside_every_layer_breaks_the_layers(tmp_path: Path) -> None:
    sources = copy_packages(CONTROL_PLANE_PACKAGES, tmp_path)
    (sources / "aijob_operator" / "helpers.py").write_text('"""Placed in no layer."""\n')

    output = lint_imports(CONTROL_PLANE_CONFIG, sources)

    assert output.startswith("exit 1"), output
    assert "aijob_operator.helpers" in output, output
