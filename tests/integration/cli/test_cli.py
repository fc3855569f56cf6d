"""The real `aijob` command against a real gateway on loopback and the real API server."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aijob_cli.exitcodes import ExitCode
from lightkube import Client
from lightkube.resources.core_v1 import Node

from tests.support.eventually import Timeout, eventually
from tests.support.gateway import RunningGateway, TenantKey, get_aijob, patch_status
from tests.support.real_node import finished_worker_pod

AIJOB = str(Path(sys.executable).parent / "aijob")

MANIFEST = """\
apiVersion: aijob.dev/v1alpha1
kind: AIJob
metadata:
  name: iris-forest
  labels:
    team: tabular
  annotations:
    aijob.dev/description: random forest on iris
spec:
  task: training
  model:
    type: random_forest
    hyperparameters:
      n_estimators: 20
  dataset:
    name: iris
  priority: high
"""


@pytest.fixture
def env(gateway: RunningGateway, tenant: TenantKey, tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose gateway URL and key are set."""
    return {
        **os.environ,
        "AIJOB_GATEWAY_URL": gateway.url,
        "AIJOB_API_KEY": tenant.key,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "COLUMNS": "200",
    }


def aijob(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIJOB, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_submit_a_manifest_then_get_list_and_json(
    env: dict[str, str], tenant: TenantKey, kube: Client, tmp_path: Path
) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(MANIFEST)
    submitted = aijob(env, "submit", "-f", str(path))
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout.strip() == "iris-forest"
    stored = get_aijob(kube, tenant.namespace, "iris-forest")
    assert stored["spec"]["priority"] == "high"
    assert stored["metadata"]["labels"] == {"team": "tabular"}
    shown = aijob(env, "get", "iris-forest")
    assert shown.returncode == 0
    assert "random forest on iris" in shown.stdout
    assert "random_forest" in shown.stdout
    listed = aijob(env, "list")
    assert listed.returncode == 0
    assert "iris-forest" in listed.stdout
    assert "1 jobs" in listed.stdout
    as_json = json.loads(aijob(env, "list", "--json", "--label", "team=tabular").stdout)
    assert [job["name"] for job in as_json["items"]] == ["iris-forest"]


def test_submit_with_flags(env: dict[str, str], tenant: TenantKey, kube: Client) -> None:
    result = aijob(
        env,
        "submit",
        "--model-type", "mlp",
        "--dataset", "digits",
        "--hp", "epochs=3",
        "--hp", "learningRate=0.01",
        "--gpu", "1",
        "--label", "team=vision",
        "--client-request-id", "cli-1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    name = result.stdout.strip()
    stored = get_aijob(kube, tenant.namespace, name)
    assert stored["spec"]["model"]["hyperparameters"] == {"epochs": 3, "learningRate": 0.01}
    assert stored["spec"]["resources"]["gpu"] == 1
    again = aijob(env, "submit", "--model-type", "mlp", "--dataset", "digits", "--hp", "epochs=3",
                  "--hp", "learningRate=0.01", "--gpu", "1", "--label", "team=vision",
                  "--client-request-id", "cli-1")  # fmt: skip
    assert again.stdout.strip() == name
    other = aijob(
        env, "submit", "--model-type", "mlp", "--dataset", "iris", "--client-request-id", "cli-1"
    )
    assert other.returncode == ExitCode.CONFLICT
    assert "cli-1" in other.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["get", "nothing-here"], ExitCode.NOT_FOUND, "404"),
        (
            ["submit", "--model-type", "svm", "--dataset", "iris", "--priority", "urgent"],
            ExitCode.INVALID,
            "spec.priority",
        ),
        (["submit", "--model-type", "svm"], ExitCode.INVALID, "dataset"),
        (["submit", "-f", "/nonexistent.yaml"], ExitCode.CONFIG, "cannot read"),
        (["list", "--label", "team in ("], ExitCode.INVALID, "label"),
    ],
)
def test_errors_have_messages_and_exit_codes(
    env: dict[str, str], args: list[str], code: int, message: str
) -> None:
    result = aijob(env, *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr


def test_auth_and_config_errors(
    env: dict[str, str], gateway: RunningGateway, tmp_path: Path
) -> None:
    wrong = aijob({**env, "AIJOB_API_KEY": "aij_000000000000_" + "A" * 43}, "list")
    assert wrong.returncode == ExitCode.AUTH
    assert "AIJOB_API_KEY" in wrong.stderr
    no_config = {k: v for k, v in env.items() if not k.startswith("AIJOB_")}
    missing = aijob(no_config, "list")
    assert missing.returncode == ExitCode.CONFIG
    assert "AIJOB_GATEWAY_URL" in missing.stderr
    unreachable = aijob({**env, "AIJOB_GATEWAY_URL": "http://127.0.0.1:9"}, "list")
    assert unreachable.returncode == ExitCode.UNAVAILABLE


def test_config_file(env: dict[str, str], tenant: TenantKey, gateway: RunningGateway) -> None:
    config_dir = Path(env["XDG_CONFIG_HOME"]) / "aijob"
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(f'url = "{gateway.url}"\napi_key = "{tenant.key}"\n')
    only_file = {k: v for k, v in env.items() if k not in ("AIJOB_GATEWAY_URL", "AIJOB_API_KEY")}
    assert aijob(only_file, "list").returncode == 0


def test_cancel_and_results(env: dict[str, str], tenant: TenantKey, kube: Client) -> None:
    name = aijob(env, "submit", "--model-type", "svm", "--dataset", "iris").stdout.strip()
    pending = aijob(env, "results", name)
    assert pending.returncode == ExitCode.CONFLICT
    assert "Pending" in pending.stderr
    patch_status(
        kube,
        tenant.namespace,
        name,
        {
            "phase": "Succeeded",
            "results": {"metrics": {"accuracy": 0.9733}, "modelUri": "file:///m"},
        },
    )
    eventually(lambda: aijob(env, "results", name).returncode == 0, timeout=Timeout.API)
    shown = aijob(env, "results", name)
    assert "accuracy" in shown.stdout
    assert "0.9733" in shown.stdout
    other = aijob(env, "submit", "--model-type", "svm", "--dataset", "iris").stdout.strip()
    cancelled = aijob(env, "cancel", other)
    assert cancelled.returncode == 0
    assert get_aijob(kube, tenant.namespace, other)["spec"]["cancel"] is True


class Terminal:
    """The CLI running on a pseudo-terminal, as a person sees it."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [AIJOB, *args],
            env={**env, "TERM": "xterm-256color"},
            stdin=slave,
            stdout=slave,
            stderr=slave,
        )
        os.close(slave)
        self.screen = ""

    def read(self) -> str:
        while select.select([self.master], [], [], 0.05)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.screen += chunk.decode(errors="replace")
        return self.screen

    def wait(self) -> int:
        deadline = time.monotonic() + Timeout.API
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read()
        self.read()
        os.close(self.master)
        return self.process.wait(timeout=Timeout.API)


def test_watch_shows_a_live_progress_bar(
    env: dict[str, str], tenant: TenantKey, kube: Client
) -> None:
    name = aijob(env, "submit", "--model-type", "mlp", "--dataset", "digits").stdout.strip()
    terminal = Terminal(env, "watch", name, "--interval", "0.2")
    eventually(lambda: "Pending" in terminal.read(), timeout=Timeout.API)
    for epoch, loss in ((1, 0.9), (2, 0.5), (3, 0.25)):
        patch_status(
            kube,
            tenant.namespace,
            name,
            {
                "phase": "Running",
                "progress": {
                    "percent": epoch * 30,
                    "epoch": epoch,
                    "totalEpochs": 3,
                    "metrics": {"loss": loss},
                    "etaSeconds": (3 - epoch) * 20,
                },
            },
        )
        drawn = (f"epoch {epoch}/3", f"loss {loss:.4f}")

        def redrawn(expected: tuple[str, str] = drawn) -> bool:
            screen = terminal.read()
            return all(text in screen for text in expected)

        eventually(redrawn, timeout=Timeout.API)
    assert "ETA 0:00:40" in terminal.screen
    patch_status(kube, tenant.namespace, name, {"phase": "Succeeded"})
    assert terminal.wait() == ExitCode.OK
    assert f"{name}: Succeeded" in terminal.screen
    assert "━" in terminal.screen  # the bar itself


def test_watch_exit_code_of_a_failed_job(
    env: dict[str, str], tenant: TenantKey, kube: Client
) -> None:
    name = aijob(env, "submit", "--model-type", "svm", "--dataset", "iris").stdout.strip()
    patch_status(kube, tenant.namespace, name, {"phase": "Failed", "message": "out of memory"})
    eventually(lambda: "Failed" in aijob(env, "get", name).stdout, timeout=Timeout.API)
    result = aijob(env, "watch", name, "--interval", "0.2")
    assert result.returncode == ExitCode.JOB_FAILED
    assert "out of memory" in result.stdout
    timeout = aijob(
        env,
        "watch",
        aijob(env, "submit", "--model-type", "svm", "--dataset", "iris").stdout.strip(),
        "--interval",
        "0.2",
        "--timeout",
        "1",
    )
    assert timeout.returncode == ExitCode.TIMEOUT


def test_logs_prints_the_workers_log_and_says_when_there_is_none(
    env: dict[str, str], tenant: TenantKey, kube: Client, tmp_path: Path, real_node: Node
) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(MANIFEST)
    assert aijob(env, "submit", "-f", str(path)).returncode == 0
    waiting = aijob(env, "logs", "iris-forest")
    assert waiting.returncode == ExitCode.CONFLICT, waiting.stderr
    assert "no pod yet" in waiting.stderr

    lines = ["loading iris", "tree 20/20", "accuracy 0.97 [done]"]
    pod = finished_worker_pod(kube, tenant.namespace, "iris-forest-pod", lines)
    patch_status(kube, tenant.namespace, "iris-forest", {"podName": pod})

    def printed() -> subprocess.CompletedProcess[str]:
        result = aijob(env, "logs", "iris-forest", "--tail", "2")
        assert result.returncode == 0, result.stderr
        return result

    shown = eventually(printed, timeout=Timeout.API, what="aijob logs prints the log")
    assert shown.stdout.splitlines() == lines[-2:], "printed as is (no markup)"
    followed = aijob(env, "logs", "iris-forest", "--follow")
    assert followed.returncode == 0
    assert followed.stdout.splitlines() == lines
