"""Every image built here starts on the real node: workers print their versions, the
operator and the gateway import as the non-root user 10001 with no installer left in."""

from __future__ import annotations

from pathlib import Path

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Node, Pod

from tests.support.eventually import Timeout, eventually
from tests.support.real_node import BASE_IMAGE, TERMINAL_PHASES, has_image, real_pod

REPO_ROOT = Path(__file__).resolve().parents[3]
WORKER_DOCKERFILES = {
    "worker-sklearn": "worker-images/sklearn/Dockerfile",
    "worker-pytorch": "worker-images/pytorch/Dockerfile",
    "worker-tensorflow": "worker-images/tensorflow/Dockerfile",
}
SERVICE_PACKAGES = {"operator": "aijob_operator", "gateway": "aijob_gateway"}


def run_to_end(kube: Client, namespace: str, pod: Pod) -> tuple[str, str]:
    """Create the pod, wait until it ends; its phase and its log."""
    kube.create(pod, namespace=namespace)
    name = pod.metadata.name if pod.metadata and pod.metadata.name else ""

    def finished() -> str:
        current = kube.get(Pod, name, namespace=namespace)
        phase = current.status.phase if current.status else None
        assert phase in TERMINAL_PHASES, f"pod {name} is {phase}"
        return phase or ""

    phase = eventually(finished, timeout=Timeout.REAL_POD, what=f"pod {name} to finish")
    return phase, "".join(kube.log(name, namespace=namespace))


def local_image(real_node: Node, name: str, dockerfile: str) -> str:
    """`aijob/<name>:dev` when the node holds it; skips (saying why) otherwise."""
    reference = f"aijob/{name}:dev"
    if not (REPO_ROOT / dockerfile).is_file():
        pytest.skip(f"{dockerfile} does not exist yet")
    if not has_image(real_node, reference):
        pytest.skip(f"{reference} is not on the real node: build it with `make images`")
    return reference


def test_base_image_runs_debian_python(kube: Client, namespace: str, real_node: Node) -> None:
    program = (
        "import platform; print(platform.python_version(), open('/etc/debian_version').read())"
    )
    phase, logs = run_to_end(kube, namespace, real_pod("base", ["python3", "-c", program]))

    assert phase == "Succeeded", logs
    assert logs.startswith("3.11."), logs
    assert logs.split()[1].startswith("12."), logs  # bookworm
    assert has_image(real_node, BASE_IMAGE)


@pytest.mark.parametrize("name", sorted(WORKER_DOCKERFILES))
def test_worker_image_starts_and_prints_its_version(
    kube: Client, namespace: str, real_node: Node, name: str
) -> None:
    image = local_image(real_node, name, WORKER_DOCKERFILES[name])
    pod = real_pod("version", ["python", "-m", "aijob_worker", "--version"], image=image)

    phase, logs = run_to_end(kube, namespace, pod)

    assert phase == "Succeeded", logs
    lines = logs.splitlines()  # frameworks may log to stderr first
    assert any(line.startswith("aijob-worker ") for line in lines), logs
    assert any(line.startswith("python 3.11.") for line in lines), logs


PROBE = """
import importlib, os, shutil, sys
importlib.import_module(sys.argv[1] + ".__main__")
print(os.getuid(), os.getgid(), sys.prefix, [t for t in ("pip", "uv", "gcc") if shutil.which(t)])
"""


@pytest.mark.parametrize("name", sorted(SERVICE_PACKAGES))
def test_service_image_imports_as_non_root_without_installers(
    kube: Client, namespace: str, real_node: Node, name: str
) -> None:
    image = local_image(real_node, name, f"{name}/Dockerfile")
    pod = real_pod("probe", ["python", "-c", PROBE, SERVICE_PACKAGES[name]], image=image)

    phase, logs = run_to_end(kube, namespace, pod)

    assert phase == "Succeeded", logs
    assert logs.split() == ["10001", "10001", "/opt/venv", "[]"]
