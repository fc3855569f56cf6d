"""hack/images/content_hash.py: which files an image build reads, and when its hash changes."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "hack" / "images" / "content_hash.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("content_hash", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


content_hash = load_script()


@pytest.mark.parametrize(
    ("dockerfile", "sources"),
    [
        ("FROM x\nCOPY a b /dst/\n", ["a", "b"]),
        ("FROM x\nCOPY --chown=1:1 ./api/ /src/api/\n", ["api/"]),
        ('FROM x\nCOPY ["uv.lock", "pyproject.toml", "/src/"]\n', ["uv.lock", "pyproject.toml"]),
        ("FROM x\nCOPY --from=build /opt/venv /opt/venv\n", []),
        ("FROM x\nADD \\\n  one \\\n  two /dst/\n", ["one", "two"]),
        ("FROM x\n# COPY commented /no\nRUN true\n", []),
        ("FROM x\ncopy lower /dst\n", ["lower"]),
    ],
)
def test_copy_sources(dockerfile: str, sources: list[str]) -> None:
    assert content_hash.copy_sources(dockerfile) == sources


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("api/src/m.py", "api/", True),
        ("api/src/m.py", "api", True),
        ("apix/m.py", "api", False),
        ("uv.lock", "uv.lock", True),
        ("anything/at/all", ".", True),
        ("worker-images/sklearn/req.txt", "worker-images/*/req.txt", True),
        ("worker-images/sklearn/src/a.py", "worker-images/sk*", True),
        ("operator/a.py", "gateway/", False),
    ],
)
def test_matches(path: str, source: str, expected: bool) -> None:
    assert content_hash.matches(path, source) is expected


def make_context(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print(1)\n")
    (tmp_path / "other.txt").write_text("not copied\n")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "x").write_text("ignored\n")
    (tmp_path / "Dockerfile").write_text("FROM x\nCOPY app/ /app/\nCOPY ignore[d] /i/\n")
    return tmp_path


@pytest.mark.parametrize(
    ("change", "changes_hash"),
    [
        (lambda root: (root / "app" / "main.py").write_text("print(2)\n"), True),
        (lambda root: (root / "app" / "new.py").write_text(""), True),
        (lambda root: (root / "app" / "main.py").chmod(0o755), True),
        (lambda root: (root / "other.txt").write_text("changed\n"), False),
        (lambda root: (root / "ignored" / "x").write_text("changed\n"), False),
        (lambda root: (root / "Dockerfile").write_text("FROM y\nCOPY app/ /app/\n"), True),
    ],
)
def test_hash_follows_what_the_build_reads(
    tmp_path: Path, change: object, changes_hash: bool
) -> None:
    root = make_context(tmp_path)
    before = content_hash.content_hash(root / "Dockerfile", root, ["base=1"])
    assert callable(change)
    change(root)
    after = content_hash.content_hash(root / "Dockerfile", root, ["base=1"])
    assert (before != after) is changes_hash


def test_extras_change_the_hash(tmp_path: Path) -> None:
    root = make_context(tmp_path)
    one = content_hash.content_hash(root / "Dockerfile", root, ["base=1"])
    two = content_hash.content_hash(root / "Dockerfile", root, ["base=2"])
    assert one != two
    assert len(one) == 12
