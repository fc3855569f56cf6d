"""Run a job without a cluster: the spec in, the status as a JSON file out.

Useful to try a spec on a laptop and in the images' own tests:

    code, status = run_offline(spec, Path("/tmp/job"))

The spec is written to `<workdir>/spec.json`, read as a worker pod reads its
spec file; artifacts go below `<workdir>/artifacts`, the status into
`<workdir>/status.json`, a failure message into `<workdir>/termination-log`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aijob_api import contract
from aijob_api.delivery import spec_document

from aijob_worker.context import ENV_STATUS_FILE, ENV_TERMINATION_MESSAGE_PATH
from aijob_worker.job import run_job
from aijob_worker.runners import RunnerRegistry
from aijob_worker.signals import StopFlag

STATUS_FILE = "status.json"
SPEC_FILE = contract.SPEC_FILE_NAME
TERMINATION_LOG = "termination-log"


def offline_env(spec: Mapping[str, Any], workdir: Path, **extra: str) -> dict[str, str]:
    """The job environment of an offline run (progress written at once: interval 0).

    Writes the spec file into `workdir` (created if need be).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    spec_file = workdir / SPEC_FILE
    spec_file.write_text(spec_document(spec), encoding="utf-8")
    env = {
        contract.ENV_SPEC_FILE: str(spec_file),
        contract.ENV_ARTIFACT_URI: f"file://{workdir.resolve()}/artifacts",
        contract.ENV_PROGRESS_INTERVAL: "0",
        ENV_STATUS_FILE: str(workdir / STATUS_FILE),
        ENV_TERMINATION_MESSAGE_PATH: str(workdir / TERMINATION_LOG),
    }
    env.update(extra)
    return env


def read_offline_status(workdir: Path) -> dict[str, Any]:
    """The status an offline run wrote so far (empty before its first write)."""
    try:
        loaded = json.loads((workdir / STATUS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def run_offline(
    spec: Mapping[str, Any],
    workdir: Path,
    *,
    registry: RunnerRegistry | None = None,
    stop: StopFlag | None = None,
    **extra: str,
) -> tuple[int, dict[str, Any]]:
    """Run a job in this process; return its exit code and the status it wrote."""
    workdir.mkdir(parents=True, exist_ok=True)
    code = run_job(offline_env(spec, workdir, **extra), stop=stop or StopFlag(), registry=registry)
    return code, read_offline_status(workdir)


GROUP_TIMEOUT_SECONDS = 600


def local_hosts(nodes: int) -> list[str]:
    """`127.0.0.1:<port>` for each pod of a group run here, ports nobody listens on now."""
    probes = [socket.socket() for _ in range(nodes)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [f"127.0.0.1:{probe.getsockname()[1]}" for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def group_env(index: int, hosts: Sequence[str], *, processes: int) -> dict[str, str]:
    """What the operator sets on pod `index` of a group whose pods listen at `hosts`."""
    master, _, port = hosts[0].rpartition(":")
    return {
        contract.ENV_NODES: str(len(hosts)),
        contract.ENV_PROCESSES_PER_NODE: str(processes),
        contract.ENV_NODE_RANK: str(index),
        contract.ENV_MASTER_ADDR: master,
        contract.ENV_MASTER_PORT: port,
        contract.ENV_WORKER_HOSTS: ",".join(hosts),
    }


def run_group_offline(
    spec: Mapping[str, Any],
    workdir: Path,
    hosts: Sequence[str],
    *,
    processes: int = 1,
    **extra: str,
) -> list[subprocess.CompletedProcess[str]]:
    """Run a group's pods side by side as processes (pod i's termination message in
    `<workdir>/termination-log-<i>`); each pod's outcome, in rank order."""
    pods = []
    for index in range(len(hosts)):
        env = {
            **os.environ,
            **offline_env(spec, workdir, **extra),
            **group_env(index, hosts, processes=processes),
            ENV_TERMINATION_MESSAGE_PATH: str(workdir / f"{TERMINATION_LOG}-{index}"),
        }
        pods.append(
            subprocess.Popen(
                [sys.executable, "-m", "aijob_worker"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    finished = []
    for pod in pods:
        stdout, stderr = pod.communicate(timeout=GROUP_TIMEOUT_SECONDS)
        finished.append(subprocess.CompletedProcess(pod.args, pod.returncode, stdout, stderr))
    return finished
