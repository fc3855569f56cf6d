"""Run the kubectl that matches the cluster, as a user would, against the session's cluster.

Found in order: `AIJOB_KUBECTL`, the project's build (`$AIJOB_BIN_DIR` or
~/.cache/aijob/bin/k8s-<version>/kubectl, as hack/lib.sh builds it), then PATH
(on this machine PATH's kubectl is an older gcloud dispatcher, hence the order).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

K8S_VERSION = os.environ.get("K8S_VERSION", "v1.36.3")


@cache
def kubectl_binary() -> str:
    """The kubectl to run."""
    candidates = [os.environ.get("AIJOB_KUBECTL", "")]
    bin_dir = os.environ.get("AIJOB_BIN_DIR") or str(
        Path(os.environ.get("AIJOB_CACHE", Path.home() / ".cache" / "aijob"))
        / "bin"
        / f"k8s-{K8S_VERSION}"
    )
    candidates.append(str(Path(bin_dir) / "kubectl"))
    candidates.append(shutil.which("kubectl") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError("no kubectl: set AIJOB_KUBECTL or run `make binaries`")


def kubectl(
    *args: str, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run kubectl with the session's KUBECONFIG; output as text."""
    return subprocess.run(
        [kubectl_binary(), *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
        env=os.environ.copy(),
    )
