"""No Python module outside the tests and the benchmarks is over 400 lines: the packages
(api, kube, operator, gateway, cli), the worker images' sources and hack/ scripts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tests.support.cluster import REPO_ROOT

MAX_LINES = 400
EXEMPT_DIRECTORIES = frozenset({"tests", "benchmarks", "build", "dist", "__pycache__"})
"""Tests and benchmarks may be longer; build output is not source. Hidden directories
(.venv, .git, .cluster) are skipped as well."""


def source_modules(root: Path) -> Iterator[Path]:
    """Every .py file under `root`, outside exempt and hidden directories."""
    for path in sorted(root.iterdir()):
        if path.is_dir():
            if path.name not in EXEMPT_DIRECTORIES and not path.name.startswith("."):
                yield from source_modules(path)
        elif path.suffix == ".py":
            yield path


def test_the_walk_sees_every_package() -> None:
    seen = {path.relative_to(REPO_ROOT).parts[0] for path in source_modules(REPO_ROOT)}
    workers = {
        path.relative_to(REPO_ROOT / "worker-images").parts[0]
        for path in source_modules(REPO_ROOT / "worker-images")
    }

    assert {"api", "operator", "gateway", "cli", "worker-images", "hack"} <= seen
    assert {"runtime", "sklearn", "pytorch", "tensorflow"} <= workers
    assert not any("tests" in path.parts for path in source_modules(REPO_ROOT / "worker-images"))


def test_no_module_is_over_400_lines() -> None:
    lengths = {
        str(path.relative_to(REPO_ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in source_modules(REPO_ROOT)
    }
    too_long = {path: lines for path, lines in lengths.items() if lines > MAX_LINES}

    assert len(lengths) > 50
    assert not too_long, f"split these modules by concern (over {MAX_LINES} lines): {too_long}"
