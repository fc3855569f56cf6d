"""spec.code.requirements: the uv command, its errors, and real installs from a local index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aijob_api import contract
from aijob_api.code import (
    ENV_REQUIREMENTS_EXTRA_INDEX_URLS,
    ENV_REQUIREMENTS_INDEX_URL,
    ENV_REQUIREMENTS_TIMEOUT,
    ENV_REQUIREMENTS_TRUSTED_HOSTS,
)

from aijob_worker.errors import BadInputError
from aijob_worker.job import run_job
from aijob_worker.requirements import (
    ENV_DIR,
    ENV_UV,
    InstallSettings,
    ensure_requirements,
    failure,
    install,
    install_command,
    installer_env,
)
from aijob_worker.signals import StopFlag
from tests.conftest import offline_env
from tests.package_index import make_wheel, serve, write_index

UV = os.environ.get("UV") or shutil.which("uv") or str(Path.home() / ".local/bin/uv")
"""The real uv (`uv run` names itself in UV)."""


def settings(tmp_path: Path, index: str | None = "http://index.example/simple") -> InstallSettings:
    return InstallSettings(index_url=index, uv=UV, target=tmp_path / "target", timeout_seconds=120)


def test_the_command_names_the_catalogs_index_and_ends_options_before_the_requirements(
    tmp_path: Path,
) -> None:
    env = {
        ENV_REQUIREMENTS_INDEX_URL: "http://index.example/simple",
        ENV_REQUIREMENTS_EXTRA_INDEX_URLS: "https://a.example/simple https://b.example/simple",
        ENV_REQUIREMENTS_TRUSTED_HOSTS: "index.example",
        ENV_REQUIREMENTS_TIMEOUT: "90",
        ENV_UV: "/x/uv",
        ENV_DIR: str(tmp_path / "t"),
    }
    read = InstallSettings.from_env(env)
    assert read.timeout_seconds == 90
    command = install_command(["rich>=13", "tqdm"], read, tmp_path / "ex.txt")
    assert command[:5] == ["/x/uv", "pip", "install", "--target", str(tmp_path / "t")]
    assert command[command.index("--default-index") + 1] == "http://index.example/simple"
    assert [command[i + 1] for i, arg in enumerate(command) if arg == "--index"] == [
        "https://a.example/simple",
        "https://b.example/simple",
    ]
    assert command[command.index("--allow-insecure-host") + 1] == "index.example"
    assert {"--no-cache", "--no-config"} <= set(command)
    assert command[command.index("--python") + 1] == sys.executable
    assert command[command.index("--excludes") + 1] == str(tmp_path / "ex.txt")
    assert command[-3:] == ["--", "rich>=13", "tqdm"]
    defaults = InstallSettings.from_env({})
    assert (defaults.uv, str(defaults.target)) == ("/opt/aijob/bin/uv", "/tmp/aijob-requirements")


def test_without_an_index_from_the_catalog_nothing_is_installed(tmp_path: Path) -> None:
    with pytest.raises(BadInputError) as caught:
        install_command(["rich"], settings(tmp_path, index=None), tmp_path / "ex.txt")
    assert caught.value.field == "spec.code.requirements"
    assert "no package index" in caught.value.problem
    with pytest.raises(BadInputError, match="AIJOB_REQUIREMENTS_TIMEOUT_SECONDS"):
        InstallSettings.from_env({ENV_REQUIREMENTS_TIMEOUT: "soon"})


def test_the_jobs_own_uv_and_pip_variables_never_reach_the_installer() -> None:
    env = {
        "UV_INDEX_URL": "http://evil/simple",
        "UV_EXTRA_INDEX_URL": "http://evil/simple",
        "PIP_INDEX_URL": "http://evil/simple",
        "UV_CONFIG_FILE": "/evil/uv.toml",
        "PATH": "/usr/bin",
        "HOME": "/tmp",
    }
    assert installer_env(env) == {"PATH": "/usr/bin", "HOME": "/tmp"}


def test_a_failure_keeps_uvs_last_lines_on_one_line() -> None:
    output = "Using CPython 3.11 interpreter at: /opt/venv/bin/python\n" + "\n".join(
        f"line {index}" for index in range(40)
    )
    error = failure(1, output)
    assert error.exit_code == 65
    assert error.field == "spec.code.requirements"
    assert error.problem == "could not be installed: " + " ".join(
        f"line {index}" for index in range(28, 40)
    )
    said = "Using CPython 3.11\n  \u00d7 No solution found when resolving dependencies:\n"
    said += "  ╰─▶ Because nope was not found in the package registry, we can conclude..."
    assert failure(1, said).problem == (
        "could not be installed: \u00d7 No solution found when resolving dependencies: "
        "╰─▶ Because nope was not found in the package registry, we can conclude..."
    )
    assert "\n" not in failure(1, said).problem
    assert failure(2, "").problem == "could not be installed: uv exited with status 2"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A served index: aijob-demo-pkg 1.2.3 (needs aijob-demo-dep and numpy), aijob-demo-dep 1.0."""
    root = tmp_path_factory.mktemp("index")
    files = root / "files"
    files.mkdir()
    pkg = make_wheel(
        files,
        "aijob-demo-pkg",
        "1.2.3",
        "from aijob_demo_dep import BASE\nVALUE = BASE + 1\n",
        requires=["aijob-demo-dep>=1", "numpy>=1"],
    )
    dep = make_wheel(files, "aijob-demo-dep", "1.0", "BASE = 41\n")
    numpy_like = make_wheel(files, "numpy", "99.0", "raise ImportError('the index numpy')\n")
    write_index(root, {"aijob-demo-pkg": [pkg], "aijob-demo-dep": [dep], "numpy": [numpy_like]})
    with serve(root) as url:
        yield url


def test_a_real_install_from_the_index_keeps_the_images_own_packages(
    tmp_path: Path, index: str
) -> None:
    versions = install(["aijob-demo-pkg==1.2.3"], settings(tmp_path, index), os.environ)
    assert versions == {"aijob-demo-dep": "1.0", "aijob-demo-pkg": "1.2.3"}
    target = tmp_path / "target"
    assert (target / "aijob_demo_pkg.py").is_file()
    assert not (target / "numpy").exists()  # the environment's numpy is excluded
    assert not list(target.glob("numpy*"))


def test_a_missing_package_is_bad_input_with_uvs_error(tmp_path: Path, index: str) -> None:
    with pytest.raises(BadInputError) as caught:
        install(["no-such-package-here"], settings(tmp_path, index), os.environ)
    assert caught.value.exit_code == 65
    assert caught.value.problem.startswith("could not be installed: ")
    assert "no-such-package-here" in caught.value.problem


def test_an_unreachable_index_and_a_timeout_are_bad_input(tmp_path: Path, index: str) -> None:
    with pytest.raises(BadInputError, match="could not be installed"):
        install(["aijob-demo-dep"], settings(tmp_path, "http://127.0.0.1:9/simple"), os.environ)
    slow = InstallSettings(index_url=index, uv=UV, target=tmp_path / "t", timeout_seconds=0.001)
    with pytest.raises(BadInputError, match=r"took longer than 0\.001 s"):
        install(["aijob-demo-dep"], slow, os.environ)
    missing = InstallSettings(index_url=index, uv=str(tmp_path / "no-uv"), target=tmp_path / "u")
    with pytest.raises(BadInputError, match="no installer at"):
        install(["aijob-demo-dep"], missing, os.environ)


def test_another_index_in_the_jobs_env_is_not_used(tmp_path: Path, index: str) -> None:
    empty = tmp_path / "empty"
    write_index(empty, {})
    with serve(empty) as admins:
        env = {**os.environ, "UV_EXTRA_INDEX_URL": index, "UV_INDEX_URL": index}
        with pytest.raises(BadInputError, match="could not be installed"):
            install(["aijob-demo-dep"], settings(tmp_path, admins), env)


def test_ensure_installs_once_and_puts_the_directory_first(
    tmp_path: Path, index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = {
        ENV_REQUIREMENTS_INDEX_URL: index,
        ENV_UV: UV,
        ENV_DIR: str(tmp_path / "reqs"),
        "PATH": os.environ.get("PATH", ""),
    }
    target = ensure_requirements(["aijob-demo-dep"], env)
    assert target == tmp_path / "reqs"
    assert sys.path[0] == str(target)
    assert os.environ["PYTHONPATH"] == f"{target}{os.pathsep}/elsewhere"
    (target / "aijob_demo_dep.py").write_text("BASE = 'kept'\n")
    # a process torchrun started: the launcher installed already, nothing is installed again
    ensure_requirements(["aijob-demo-dep"], {**env, ENV_REQUIREMENTS_INDEX_URL: "http://x:9/"})
    assert (target / "aijob_demo_dep.py").read_text() == "BASE = 'kept'\n"
    assert ensure_requirements([], env) is None


SCRIPT = """\
import aijob_demo_pkg
from aijob_worker import report
report(epoch=1, total_epochs=1, metrics={"value": float(aijob_demo_pkg.VALUE)})
"""


def run_worker(tmp_path: Path, index: str, requirements: list[str]) -> tuple[int, Path, str]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(SCRIPT)
    spec = {
        "task": "training",
        "framework": "pytorch",
        "code": {"configMap": "c", "entrypoint": "train.py", "requirements": requirements},
    }
    workdir = tmp_path / "job"
    env = offline_env(
        workdir,
        spec,
        AIJOB_CODE_DIR=str(code),
        PATH="/usr/bin",
        **{ENV_REQUIREMENTS_INDEX_URL: index, ENV_UV: UV, ENV_DIR: str(tmp_path / "reqs")},
    )
    done = subprocess.run(
        [sys.executable, "-m", "aijob_worker"], env=env, capture_output=True, text=True, timeout=180
    )
    return done.returncode, workdir, done.stdout + done.stderr


def test_the_worker_installs_and_the_script_imports_it(tmp_path: Path, index: str) -> None:
    code, workdir, log = run_worker(tmp_path, index, ["aijob-demo-pkg>=1.2"])
    assert code == 0, log
    status = json.loads((workdir / "status.json").read_text())
    assert status["results"]["metrics"]["value"] == 42.0
    assert "aijob-demo-pkg==1.2.3" in log  # the installed versions are in the job's log


def test_the_worker_fails_once_on_a_package_the_index_lacks(tmp_path: Path, index: str) -> None:
    code, workdir, log = run_worker(tmp_path, index, ["aijob-demo-pkg", "no-such-package-here"])
    assert code == 65, log
    message = (workdir / "termination-log").read_text()
    assert message.startswith("bad input: spec.code.requirements: could not be installed:")
    assert "no-such-package-here" in message


def test_the_torchrun_launcher_installs_before_it_starts_the_processes(tmp_path: Path) -> None:
    spec = {
        "task": "training",
        "framework": "pytorch",
        "code": {"configMap": "c", "entrypoint": "train.py", "requirements": ["aijob-demo-dep"]},
    }
    workdir = tmp_path / "job"
    env = offline_env(
        workdir,
        spec,
        AIJOB_CODE_DIR=str(tmp_path),
        **{
            contract.ENV_NODES: "1",
            contract.ENV_PROCESSES_PER_NODE: "2",
            ENV_REQUIREMENTS_INDEX_URL: "http://127.0.0.1:9/simple",
            ENV_UV: UV,
            ENV_DIR: str(tmp_path / "reqs"),
        },
    )
    assert run_job(env, stop=StopFlag()) == 65
    message = (workdir / "termination-log").read_text()
    assert message.startswith("bad input: spec.code.requirements: could not be installed:")
