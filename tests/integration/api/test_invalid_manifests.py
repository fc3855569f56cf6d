"""The API server refuses invalid AIJobs, naming the field: one test per file in invalid/.

Each file is applied exactly, with `kubectl apply -f`, as a user would; its `# expect:`
comment lines hold text the refusal must contain. Nothing may be created.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.kubectl import kubectl

CORPUS = sorted((Path(__file__).parent / "invalid").glob("*.yaml"))


def expectations(path: Path) -> list[str]:
    """The `# expect:` lines of a corpus file."""
    prefix = "# expect:"
    return [
        line.removeprefix(prefix).strip()
        for line in path.read_text().splitlines()
        if line.startswith(prefix)
    ]


def test_every_file_says_what_to_expect() -> None:
    assert len(CORPUS) >= 20
    assert all(expectations(path) for path in CORPUS)


@pytest.mark.usefixtures("aijob_crd")
@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_invalid_manifest_is_refused_naming_the_field(path: Path, namespace: str) -> None:
    result = kubectl("apply", "-f", str(path), "-n", namespace, check=False)
    refusal = result.stderr
    assert result.returncode != 0, result.stdout
    for expected in expectations(path):
        assert expected in refusal
    listed = kubectl("get", "aijobs", "-n", namespace, "-o", "name").stdout
    assert listed.strip() == ""
