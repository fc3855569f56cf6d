"""Which Kubernetes cluster the tests talk to.

In order: the cluster of `KUBECONFIG` when the user set it (kind, GKE, any real
cluster); a kind cluster made by pytest-kind when `AIJOB_TEST_CLUSTER=kind` (needs a
container engine, so never the default); otherwise the project's local control
plane, started by `hack/cluster-up.sh` or reused when it is already up.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_KUBECONFIG = REPO_ROOT / ".cluster" / "kubeconfig"


@dataclass(frozen=True)
class ClusterInfo:
    """A cluster the tests may use."""

    kubeconfig: Path
    local: bool
    """True for the project's own control plane (KWOK stages, simulated GPU nodes)."""


def local_cluster() -> ClusterInfo:
    """Start the project's local control plane (or reuse it) and return its kubeconfig."""
    subprocess.run([str(REPO_ROOT / "hack" / "cluster-up.sh")], check=True, cwd=REPO_ROOT)
    return ClusterInfo(kubeconfig=LOCAL_KUBECONFIG, local=True)


def kind_cluster(name: str = "aijob-tests") -> ClusterInfo:
    """Create a kind cluster through pytest-kind (opt-in; needs a container engine)."""
    try:
        from pytest_kind import KindCluster
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "AIJOB_TEST_CLUSTER=kind needs pytest-kind: `uv sync --group kind`"
        ) from error
    cluster = KindCluster(name)
    cluster.create()
    return ClusterInfo(kubeconfig=Path(cluster.kubeconfig_path), local=False)


def select_cluster() -> ClusterInfo:
    """The cluster for this test session (see the module docstring)."""
    if os.environ.get("KUBECONFIG"):
        path = Path(os.environ["KUBECONFIG"].split(os.pathsep)[0]).expanduser()
        local = path.resolve() == LOCAL_KUBECONFIG.resolve()
        return ClusterInfo(kubeconfig=path, local=local)
    if os.environ.get("AIJOB_TEST_CLUSTER", "local") == "kind":
        return kind_cluster()
    return local_cluster()
