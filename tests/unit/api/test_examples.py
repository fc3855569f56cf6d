"""The examples/ files are valid, and each one is run by a test (or the demo), so the docs
that show them cannot rot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from aijob_api.endpoint import AIEndpoint
from aijob_api.models import AIJob
from aijob_gateway.schemas.jobs import SubmitJobRequest

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = REPO_ROOT / "examples"
MANIFESTS = sorted(EXAMPLES.rglob("*.yaml"))
REST_BODIES = sorted((EXAMPLES / "rest").glob("*.json"))
RUNNERS = [
    *sorted((REPO_ROOT / "tests").rglob("*.py")),
    REPO_ROOT / "hack" / "demo.sh",
    REPO_ROOT / "README.md",  # its "Using it" blocks: run by hack/check-readme.sh in make test
]


def test_there_are_examples() -> None:
    assert len(MANIFESTS) >= 5
    assert REST_BODIES


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_manifest_is_a_valid_resource(path: Path) -> None:
    manifest = yaml.safe_load(path.read_text())
    resource = AIEndpoint if manifest.get("kind") == "AIEndpoint" else AIJob
    parsed = resource.model_validate(manifest)
    assert parsed.metadata.name, "an example needs a name to be applied as it is"


@pytest.mark.parametrize("path", REST_BODIES, ids=lambda path: path.name)
def test_rest_body_is_a_valid_submission(path: Path) -> None:
    SubmitJobRequest.model_validate(json.loads(path.read_text()))


@pytest.mark.parametrize("path", [*MANIFESTS, *REST_BODIES], ids=lambda path: path.name)
def test_example_is_run_by_a_test_or_the_demo(path: Path) -> None:
    users = [
        runner.relative_to(REPO_ROOT)
        for runner in RUNNERS
        if runner != Path(__file__).resolve() and path.name in runner.read_text()
    ]
    assert users, f"no test applies examples/{path.relative_to(EXAMPLES)}"
