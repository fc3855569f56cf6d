"""Install size of each worker image's dependency set, built the way its Dockerfile builds it.

For every framework image: copy the files its Dockerfile copies into a scratch
tree, run the same `uv sync --frozen --no-dev --no-editable` into a fresh
virtual environment (files copied, bytecode compiled, as in the image), and
measure the environment on disk. The baseline, measured in the same run, is
the shared runtime alone (`aijob-worker[data,s3]`), so each ratio says how
much the framework adds. Writes benchmarks/results/worker_image_sizes.json.

    python3 -m benchmarks.worker_image_sizes [sklearn tensorflow pytorch]

(from the repository root; the system Python is enough: it imports only the standard
library, so it does not use benchmarks.support, whose cluster helpers need lightkube).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "worker_image_sizes.json"
FRAMEWORKS = ("sklearn", "tensorflow", "pytorch")


def copy_build_context(project: str, target: Path) -> None:
    """The files the Dockerfiles copy: the API and Kubernetes packages, the runtime, the project."""
    for relative in dict.fromkeys(
        ("api", "kube", "worker-images/runtime", f"worker-images/{project}")
    ):
        source = REPO / relative
        destination = target / relative
        destination.mkdir(parents=True, exist_ok=True)
        for name in ("pyproject.toml", "uv.lock"):
            if (source / name).exists():
                shutil.copy2(source / name, destination / name)
        shutil.copytree(source / "src", destination / "src")


def directory_bytes(path: Path) -> int:
    """Bytes of the regular files below a path (symlinks not followed)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            file = Path(root) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def measure(project: str, scratch: Path) -> dict[str, float]:
    """Build one dependency set like the image does; its size and build time."""
    context = scratch / project / "context"
    venv = scratch / project / "venv"
    copy_build_context(project, context)
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON": "python3.11",
        "UV_COMPILE_BYTECODE": "1",
        "UV_LINK_MODE": "copy",
        "UV_PROJECT_ENVIRONMENT": str(venv),
    }
    started = time.perf_counter()
    subprocess.run(
        [
            os.environ.get("UV") or "uv",
            "sync",
            "--project",
            f"worker-images/{project}",
            "--frozen",
            "--no-dev",
            "--no-editable",
            "--quiet",
        ],
        cwd=context,
        env=env,
        check=True,
    )
    seconds = time.perf_counter() - started
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "aijob_worker", "--version"],
        check=True,
        capture_output=True,
    )
    return {"bytes": directory_bytes(venv), "syncSeconds": round(seconds, 1)}


def main() -> int:
    wanted = sys.argv[1:] or list(FRAMEWORKS)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="aijob-image-sizes-") as directory:
        scratch = Path(directory)
        results["runtime"] = measure("runtime", scratch)
        for project in wanted:
            results[project] = measure(project, scratch)
            shutil.rmtree(scratch / project)
    baseline = results["runtime"]["bytes"]
    images = {
        name: {
            "megabytes": round(item["bytes"] / 1e6, 1),
            "ratioToRuntime": round(item["bytes"] / baseline, 1),
            "syncSeconds": item["syncSeconds"],
        }
        for name, item in results.items()
    }
    report = {"baseline": "the shared runtime alone (aijob-worker[data,s3])", "images": images}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    for name, item in images.items():
        print(
            f"{name:12s} {item['megabytes']:9.1f} MB  x{item['ratioToRuntime']:6.1f}  "
            f"sync {item['syncSeconds']} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
