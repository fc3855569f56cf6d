"""Find and run the helm built with the cluster (`make binaries`), as a user would.

Found in order: `AIJOB_HELM`, the project's build (`$AIJOB_BIN_DIR` or
~/.cache/aijob/bin/k8s-<version>/helm), then PATH. None: `helm_binary()` is None and
the tests that need it skip, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.cluster import REPO_ROOT
from tests.support.kubectl import K8S_VERSION

CHART = REPO_ROOT / "helm" / "aijob"
LOCAL_VALUES = CHART / "values-local.yaml"


def helm_binary() -> str | None:
    """The helm to run, or None when it is not built."""
    bin_dir = os.environ.get("AIJOB_BIN_DIR") or str(
        Path(os.environ.get("AIJOB_CACHE", Path.home() / ".cache" / "aijob"))
        / "bin"
        / f"k8s-{K8S_VERSION}"
    )
    candidates = [os.environ.get("AIJOB_HELM", ""), str(Path(bin_dir) / "helm")]
    candidates.append(shutil.which("helm") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_helm(*args: str, timeout: float = 360) -> subprocess.CompletedProcess[str]:
    """Run helm (never raising on its exit code: callers check it)."""
    binary = helm_binary()
    if binary is None:
        raise FileNotFoundError("helm is not built: run `make binaries`")
    return subprocess.run(
        [binary, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
